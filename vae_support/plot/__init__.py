"""The course's figures, one submodule per theme; import from the submodule.

Every public function takes ``ax=None`` (a new figure is made when None), ``lang="pt"|"en"``
for every piece of text it draws, and returns the axes it drew on. Shared helpers live in
``_style``.
"""
