"""The live channel: socket.io over msgpack, a thin layer around ``plenary.actions``."""
