"""click commands, one module per family; parse -> call -> render, no policy logic here."""
