"""Where facts about a cluster come from (live API server or manifests), behind one snapshot model."""
