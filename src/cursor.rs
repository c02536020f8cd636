//! The board's page cursor: where the next page starts, opaque to clients.
//!
//! A cursor is the base64url (no padding) text of a small JSON object naming the order it was
//! cut in (sort column and direction), the last row's sort value and item id, and a check: the
//! first 8 bytes of `SHA-256("huiyin board cursor v1\0" ‖ order ‖ filters ‖ value ‖ item id)`.
//! So a garbled cursor, an edited one, or one taken from a board with another order or other
//! filters is refused (400 `invalid_cursor`) rather than silently paging something else. The
//! check is not a secret: a cursor only says where to start in a set its holder may read anyway,
//! so a forged one can show nothing the request could not already ask for; the check keeps
//! mistakes loud, and works across server processes without a shared key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use infra::views::{BoardPosition, BoardSort};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A cursor is refused when its text is longer than this.
pub const CURSOR_BYTES_MAX: usize = 4_096;

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this server wrote for this board: not base64url, not its JSON, too long, or
    /// its check fails (edited, or cut from a board with other filters).
    #[error("the cursor is not one this server gave out for this board (garbled, edited, or from other filters); start again from the first page")]
    Garbled,
    /// A cursor of a board in another order.
    #[error("the cursor belongs to a board in another order (sort or dir); start again from the first page")]
    OtherBoard,
}

#[derive(Debug, Serialize, Deserialize)]
struct CursorText {
    /// Sort column.
    s: String,
    /// Descending.
    d: bool,
    /// The last row's sort value.
    v: String,
    /// The last row's item id.
    i: String,
    /// Check, hex.
    c: String,
}

/// What a cursor is bound to: the order and the filters of the board it was cut from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorScope {
    /// The sort column.
    pub sort: BoardSort,
    /// Descending.
    pub descending: bool,
    /// The filters, as a canonical text (e.g. the sorted query pairs), bound into the check.
    pub filters: String,
}

fn check(sort: &str, descending: bool, filters: &str, value: &str, item_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"huiyin board cursor v1\0");
    for part in [
        sort,
        if descending { "desc" } else { "asc" },
        filters,
        value,
        item_id,
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(&hash.finalize()[..8])
}

/// The cursor of the page after `position`, in `scope`.
pub fn encode(scope: &CursorScope, position: &BoardPosition) -> String {
    let text = CursorText {
        s: scope.sort.name().to_owned(),
        d: scope.descending,
        v: position.value.clone(),
        i: position.item_id.clone(),
        c: check(
            scope.sort.name(),
            scope.descending,
            &scope.filters,
            &position.value,
            &position.item_id,
        ),
    };
    let json = serde_json::to_vec(&text).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Where a cursor says the page starts, if it was cut from a board of `scope`.
///
/// # Errors
/// [`CursorError`] when it is garbled or edited, or belongs to another board.
pub fn decode(scope: &CursorScope, cursor: &str) -> Result<BoardPosition, CursorError> {
    if cursor.len() > CURSOR_BYTES_MAX {
        return Err(CursorError::Garbled);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| CursorError::Garbled)?;
    let text: CursorText = serde_json::from_slice(&bytes).map_err(|_| CursorError::Garbled)?;
    if BoardSort::parse(&text.s).is_none() {
        return Err(CursorError::Garbled);
    }
    if text.s != scope.sort.name() || text.d != scope.descending {
        return Err(CursorError::OtherBoard);
    }
    // An edited cursor and one of the same order with other filters look alike here.
    if text.c != check(&text.s, text.d, &scope.filters, &text.v, &text.i) {
        return Err(CursorError::Garbled);
    }
    Ok(BoardPosition {
        value: text.v,
        item_id: text.i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(filters: &str) -> CursorScope {
        CursorScope {
            sort: BoardSort::Due,
            descending: false,
            filters: filters.to_owned(),
        }
    }

    fn position() -> BoardPosition {
        BoardPosition {
            value: "2024-06-05".to_owned(),
            item_id: "2024-S-001".to_owned(),
        }
    }

    #[test]
    fn a_cursor_reads_back_to_its_position() {
        let cursor = encode(&scope("status=assigned"), &position());
        assert_eq!(decode(&scope("status=assigned"), &cursor), Ok(position()));
        assert!(cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn garbled_edited_and_foreign_cursors_are_refused() {
        let cursor = encode(&scope(""), &position());
        assert_eq!(
            decode(&scope(""), "not a cursor!"),
            Err(CursorError::Garbled)
        );
        assert_eq!(decode(&scope(""), &cursor[1..]), Err(CursorError::Garbled));
        let edited = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(&cursor).expect("base64"))
                .expect("utf8")
                .replace("2024-S-001", "2024-S-002"),
        );
        assert_eq!(decode(&scope(""), &edited), Err(CursorError::Garbled));
        let descending = CursorScope {
            descending: true,
            ..scope("")
        };
        assert_eq!(decode(&descending, &cursor), Err(CursorError::OtherBoard));
        // Other filters: the check no longer holds.
        assert!(decode(&scope("kind=inquiry"), &cursor).is_err());
    }
}
