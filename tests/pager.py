"""What every paged list's pager says (the ``pager`` macro, templates/macros/ui.html)."""

from __future__ import annotations

from collections.abc import Callable


def assert_pager(html: str, page: int, page_url: Callable[[int], str], *, has_next: bool) -> None:
    """*page* is the current page; a link to the previous and to the next page, each exactly when
    that page exists, to ``page_url(n)`` as the page writes it (``&`` as ``&amp;``)."""
    assert f'<li aria-current="page">{page}ページ目</li>' in html
    if page > 1:
        assert f'href="{page_url(page - 1)}" rel="prev">前の50件' in html
    else:
        assert "前の50件" not in html
    if has_next:
        assert f'href="{page_url(page + 1)}" rel="next">次の50件' in html
    else:
        assert "次の50件" not in html
