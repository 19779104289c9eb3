"""Documentation generators of the repository's tooling (not part of the installed package).

``manpage`` renders the man pages from the command tree; ``man_text`` holds their prose.
``scripts/gen_docs.py`` writes and checks what they make.
"""
