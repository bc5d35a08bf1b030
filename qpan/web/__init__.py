"""``qpan serve``: a server-rendered web view and JSON API over the database (the top layer; nothing imports it)."""
