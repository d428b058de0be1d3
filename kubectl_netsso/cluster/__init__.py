"""Where facts about a cluster come from, behind one snapshot model (snapshot.py).

Sources read: manifests.py (files, folders, stdin, ``example:NAME``; the bounded YAML loader), live.py (the API
server: list and paginate; LiveClient, the one HTTP client) with reviews.py (SelfSubjectReview, access and rules
reviews, discovery), defaults.py (the packaged default roles), kubeconfig.py. Every source's objects go through the
one strict decoder, decode.py (the kind table, with netpol_decode.py and the shared field checks in fields.py).
"""
