//! Which template files are copied verbatim: binaryornot 0.6's `is_binary` (extension list,
//! magic numbers, then a decision tree over statistics of the first 512 bytes).

use std::io::Read as _;
use std::path::Path;

use crate::binary_tree::{self, BINARY_EXTENSIONS, BINARY_SIGNATURES};

const CHUNK_SIZE: usize = 512;

/// binaryornot's `is_binary(path)`.
pub fn is_binary(path: &Path) -> std::io::Result<bool> {
    if has_binary_extension(path) {
        return Ok(true);
    }
    let mut chunk = Vec::with_capacity(CHUNK_SIZE);
    fs_err::File::open(path)?
        .take(CHUNK_SIZE as u64)
        .read_to_end(&mut chunk)?;
    Ok(is_binary_string(&chunk))
}

/// Python's `Path(name).suffix.lower().lstrip(".")` looked up in the extension list.
pub fn has_binary_extension(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    // pathlib: no suffix for names ending in '.', or whose only dot leads.
    let Some(dot) = name.rfind('.') else {
        return false;
    };
    if dot == 0 || dot + 1 == name.len() {
        return false;
    }
    let ext = name[dot + 1..].to_lowercase();
    BINARY_EXTENSIONS.binary_search(&ext.as_str()).is_ok()
}

fn has_signature(chunk: &[u8]) -> bool {
    BINARY_SIGNATURES.iter().any(|sig| chunk.starts_with(sig))
}

/// binaryornot's `is_binary_string(chunk)`.
pub fn is_binary_string(chunk: &[u8]) -> bool {
    if chunk.is_empty() {
        return false;
    }
    if has_signature(chunk) {
        return true;
    }
    binary_tree::is_binary(&features(chunk))
}

#[allow(clippy::cast_precision_loss)] // counts of at most 512 bytes
fn ratio(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

fn flag(yes: bool) -> f64 {
    if yes { 1.0 } else { 0.0 }
}

/// binaryornot's `_compute_features`.
fn features(chunk: &[u8]) -> [f64; 24] {
    let n = chunk.len();
    let count = |pred: &dyn Fn(u8) -> bool| chunk.iter().filter(|b| pred(**b)).count();
    let nulls = count(&|b| b == 0);
    let controls = count(&|b| b < 32 && !matches!(b, 0 | 9 | 10 | 13));
    let printable = count(&|b| (0x20..=0x7e).contains(&b));
    let high = count(&|b| b >= 0x80);
    let even_nulls = chunk.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nulls = chunk.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let mut hist = [0usize; 256];
    for &b in chunk {
        hist[usize::from(b)] += 1;
    }
    let mut entropy = 0.0;
    for &c in &hist {
        if c > 0 {
            let p = ratio(c, n);
            entropy -= p * p.log2();
        }
    }
    let mut max_run = 0;
    let mut run = 0;
    for &b in chunk {
        if (0x20..=0x7e).contains(&b) || matches!(b, 9 | 10 | 13) {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    let long = n >= 10;
    [
        ratio(nulls, n),
        ratio(controls, n),
        ratio(printable, n),
        ratio(high, n),
        flag(std::str::from_utf8(chunk).is_ok()),
        ratio(even_nulls, n.div_ceil(2)),
        ratio(odd_nulls, n / 2),
        entropy,
        flag(chunk.starts_with(b"\xff\xfe\x00\x00")),
        flag(chunk.starts_with(b"\x00\x00\xfe\xff")),
        flag(chunk.starts_with(b"\xff\xfe") && !chunk.starts_with(b"\xff\xfe\x00\x00")),
        flag(chunk.starts_with(b"\xfe\xff")),
        flag(chunk.starts_with(b"\xef\xbb\xbf")),
        flag(long && utf16_ok(chunk, false)),
        flag(long && utf16_ok(chunk, true)),
        flag(n >= 16 && utf32_ok(chunk, false)),
        flag(n >= 16 && utf32_ok(chunk, true)),
        ratio(max_run, n),
        flag(
            long && double_byte_ok(chunk, &|l| (0xa1..=0xf7).contains(&l), &|t| {
                (0xa1..=0xfe).contains(&t)
            }),
        ),
        flag(
            long && double_byte_ok(chunk, &|l| (0xa1..=0xf9).contains(&l), &|t| {
                (0x40..=0x7e).contains(&t) || (0xa1..=0xfe).contains(&t)
            }),
        ),
        flag(long && shift_jis_ok(chunk)),
        flag(long && euc_jp_ok(chunk)),
        flag(
            long && double_byte_ok(chunk, &|l| (0xa1..=0xfe).contains(&l), &|t| {
                (0xa1..=0xfe).contains(&t)
            }),
        ),
        flag(has_signature(chunk)),
    ]
}

fn utf16_ok(chunk: &[u8], big_endian: bool) -> bool {
    if !chunk.len().is_multiple_of(2) {
        return false;
    }
    let units = chunk.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units).all(|r| r.is_ok())
}

fn utf32_ok(chunk: &[u8], big_endian: bool) -> bool {
    if !chunk.len().is_multiple_of(4) {
        return false;
    }
    chunk.chunks_exact(4).all(|p| {
        let v = if big_endian {
            u32::from_be_bytes([p[0], p[1], p[2], p[3]])
        } else {
            u32::from_le_bytes([p[0], p[1], p[2], p[3]])
        };
        char::from_u32(v).is_some()
    })
}

/// The byte structure of an EUC-style double-byte encoding (ASCII, or lead + trail).
/// Python's codecs also reject unassigned pairs; the structure is what tells text from noise.
fn double_byte_ok(chunk: &[u8], lead: &dyn Fn(u8) -> bool, trail: &dyn Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while i < chunk.len() {
        let b = chunk[i];
        if b < 0x80 {
            i += 1;
        } else if lead(b) && chunk.get(i + 1).is_some_and(|t| trail(*t)) {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

fn shift_jis_ok(chunk: &[u8]) -> bool {
    let mut i = 0;
    while i < chunk.len() {
        let b = chunk[i];
        if b < 0x80 || (0xa1..=0xdf).contains(&b) {
            i += 1;
        } else if ((0x81..=0x9f).contains(&b) || (0xe0..=0xef).contains(&b))
            && chunk
                .get(i + 1)
                .is_some_and(|t| (0x40..=0x7e).contains(t) || (0x80..=0xfc).contains(t))
        {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

fn euc_jp_ok(chunk: &[u8]) -> bool {
    let mut i = 0;
    let high = |b: Option<&u8>| b.is_some_and(|b| (0xa1..=0xfe).contains(b));
    while i < chunk.len() {
        let b = chunk[i];
        if b < 0x80 {
            i += 1;
        } else if b == 0x8e && chunk.get(i + 1).is_some_and(|t| (0xa1..=0xdf).contains(t)) {
            i += 2;
        } else if b == 0x8f && high(chunk.get(i + 1)) && high(chunk.get(i + 2)) {
            i += 3;
        } else if (0xa1..=0xfe).contains(&b) && high(chunk.get(i + 1)) {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        assert!(!is_binary_string(b"hello world\nthis is text\n"));
        assert!(!is_binary_string("héllo wörld — ünïcode\n".as_bytes()));
        assert!(is_binary_string(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        let noise: Vec<u8> = (0..512u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
            .collect();
        assert!(is_binary_string(&noise));
        assert!(has_binary_extension(Path::new("a/logo.PNG")));
        assert!(!has_binary_extension(Path::new(".png")));
    }
}
