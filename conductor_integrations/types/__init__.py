"""Provider types: the embedded table and the server's own definitions, behind one interface."""
