//! Long lists in pages of [`ROWS`], newest first (the search and the audit view): which
//! rows to read for a page, and whether another page follows.

/// Rows per page.
pub const ROWS: usize = 50;
/// The furthest page that may be asked for.
const LAST: usize = 100_000;

/// A page of a list: its number (from 1) and whether another follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: usize,
    pub more: bool,
}

impl Page {
    /// The rows to read for page `asked` (0: the first), as (limit, offset): one row more
    /// than a page shows, which says whether another follows.
    pub fn window(asked: usize) -> (i64, i64) {
        let number = asked.clamp(1, LAST);
        ((ROWS + 1) as i64, ((number - 1) * ROWS) as i64)
    }

    /// The rows read through [`Page::window`] for page `asked`, cut to the page.
    pub fn cut<T>(asked: usize, mut rows: Vec<T>) -> (Page, Vec<T>) {
        let more = rows.len() > ROWS;
        rows.truncate(ROWS);
        (Page { number: asked.clamp(1, LAST), more }, rows)
    }

    /// Whether the list has more than this one page (the pager is shown).
    pub fn paged(&self) -> bool {
        self.number > 1 || self.more
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_one_row_more_than_it_shows() {
        assert_eq!(Page::window(0), (51, 0));
        assert_eq!(Page::window(3), (51, 100));
        let (page, rows) = Page::cut(2, (0..51).collect::<Vec<_>>());
        assert_eq!((page, rows.len()), (Page { number: 2, more: true }, 50));
        let (page, rows) = Page::cut(0, vec![1, 2]);
        assert_eq!((page, rows), (Page { number: 1, more: false }, vec![1, 2]));
        assert!(!page.paged());
    }
}
