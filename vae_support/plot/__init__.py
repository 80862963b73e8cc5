"""The course's figures, one submodule per theme; import from the submodule.

Every public function takes ``ax=None`` (a new figure is made when None), ``lang="pt"|"en"``
for every piece of text it draws, and returns the axes it drew on. Shared helpers live in
``_style``. Importing any of it applies the course's figure style (transparent backgrounds,
colours legible on light and dark pages); a notebook that draws with matplotlib directly calls
``apply_style()`` to get the same.
"""
from ._style import apply_style

__all__ = ["apply_style"]
