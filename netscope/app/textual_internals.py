"""Every private Textual name the app uses, in one place, with why.

Textual is pinned to 8.2.x (pyproject.toml) because of these; a Textual upgrade checks this
module first. The app uses:

- ``textual.widgets._header``: ``HeaderTitle``, ``HeaderIcon``, ``HeaderClockSpace``, so that
  ``QuietHeader`` can repaint one line on a new sub-title instead of laying out the screen
  (``widgets/quiet_header.py``).
- ``Tree`` internals in ``widgets/block_tree.py``: ``_invalidate``, ``_clear_line_cache``,
  ``_scroll_update`` and ``_tree_lines``, so that expanding a block of a 10,000-block model
  rebuilds a few hundred lines, not every line (Textual's own ``_invalidate`` also requests a
  layout of the screen); ``_render_line``, called with the widget's style looked up once a frame
  instead of once a line (``BlockTree.render_line``), and replaced by ``BlockTree._render_line``,
  which keeps drawn rows by what they show, not by line number (Tree's cache is cleared at every
  expand, so an expand or a jump drew every visible row again). That copy of Tree's row drawing
  reads ``_TreeLine.path``/``last``, ``TreeNode._id``, ``_updates``, ``_hover``, ``_selected``,
  ``Tree._pseudo_class_state`` and ``Tree.LINES``, and puts the ``line``/``node`` meta in the
  cells as Tree does (Tree's mouse handlers read ``line``). The figure key (``c``) relabels
  rows in place through ``TreeNode._label`` and ``_updates`` (Tree's label version, part of the
  drawn rows' key), and widens the tree with ``_TreeLine._get_guide_width`` when a row
  relabelled as it is drawn grew past the virtual width (``BlockTree.set_column``).
"""

from __future__ import annotations

from textual.widgets._header import HeaderClockSpace, HeaderIcon, HeaderTitle

__all__ = ["HeaderClockSpace", "HeaderIcon", "HeaderTitle"]
