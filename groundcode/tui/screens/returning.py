"""Read a screen's data again when the user comes back to it, not when a dialog closes.

The codebook, model and saturation screens show figures other screens change
(coding, renaming, placing concepts), so each reads them again on
``screen_resume``. A dialog on top is not "leaving": its own worker refreshes
what it changed, and reading everything again behind it would redraw the
screen for nothing. The three screens had written that check out each; it is
written once here.
"""

from __future__ import annotations

from typing import Any, cast

from textual.screen import ModalScreen, Screen


class RefreshesOnReturn:
    """Mixin for screens: ``refresh_on_return`` after another screen, never after a dialog.

    The screen says whether it has shown anything yet (``shown_once``: nothing
    to refresh before the first load) and how to read again.
    """

    _left_for_modal = False

    def shown_once(self) -> bool:
        """Whether the first load has been shown (the mount's own read comes first)."""
        raise NotImplementedError

    def refresh_on_return(self) -> None:
        """Read the screen's data again (in a worker)."""
        raise NotImplementedError

    def on_screen_suspend(self) -> None:
        self._left_for_modal = isinstance(cast("Screen[Any]", self).app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        if self.shown_once() and not self._left_for_modal:
            self.refresh_on_return()
