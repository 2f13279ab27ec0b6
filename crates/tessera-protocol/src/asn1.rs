//! A minimal, strict DER reader over borrowed bytes: enough to walk CMP messages and keep
//! the raw encoding of each part (protection is checked over the bytes as received).
//! Only DER is accepted: definite, minimal lengths; minimal INTEGERs; BIT STRINGs of whole
//! bytes where a signature or MAC is expected; and every field is read by its tag
//! ([`expect`], [`optional`]), never by position alone.

use crate::Error;

/// One TLV: its tag byte, its content, and its whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

fn malformed(reason: &str) -> Error {
    Error::Malformed { reason: reason.to_owned() }
}

/// Read one TLV at the start of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), Error> {
    let tag = *input.first().ok_or_else(|| malformed("truncated tag"))?;
    if tag & 0x1F == 0x1F {
        return Err(malformed("multi-byte tags are not used in CMP"));
    }
    let first = *input.get(1).ok_or_else(|| malformed("truncated length"))?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7F) as usize;
        if n == 0 || n > 4 {
            return Err(malformed("unsupported length form"));
        }
        let bytes = input.get(2..2 + n).ok_or_else(|| malformed("truncated length"))?;
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        // DER: the long form only from 128 on, in as few bytes as the length needs.
        if len < 0x80 || bytes[0] == 0 {
            return Err(malformed("non-minimal length"));
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len).ok_or_else(|| malformed("length overflow"))?;
    let raw = input.get(..end).ok_or_else(|| malformed("truncated content"))?;
    Ok((Tlv { tag, content: &raw[header..], raw }, &input[end..]))
}

/// Read exactly one TLV filling `input`.
pub fn read_one(input: &[u8]) -> Result<Tlv<'_>, Error> {
    let (tlv, rest) = read(input)?;
    if !rest.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(tlv)
}

/// The TLVs inside a constructed value.
pub fn children(content: &[u8]) -> Result<Vec<Tlv<'_>>, Error> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, r) = read(rest)?;
        out.push(tlv);
        rest = r;
    }
    Ok(out)
}

/// DER builders (re-exported from tessera-pki) plus the few CMP needs besides.
pub use tessera_pki::der::{sequence, tlv, unsigned_integer};

pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// A small INTEGER (non-negative or -1, as certReqId may be).
pub fn integer(v: i64) -> Vec<u8> {
    if v == -1 {
        return vec![0x02, 0x01, 0xFF];
    }
    unsigned_integer(&(v as u64).to_be_bytes())
}

/// The next TLV of `fields` (advancing it), which must have `tag`.
pub fn expect<'a>(fields: &mut std::slice::Iter<'_, Tlv<'a>>, tag: u8, what: &str) -> Result<Tlv<'a>, Error> {
    match fields.next() {
        Some(t) if t.tag == tag => Ok(*t),
        Some(t) => Err(malformed(&format!("{what}: tag {:02X}, expected {tag:02X}", t.tag))),
        None => Err(malformed(&format!("{what} missing"))),
    }
}

/// The next TLV of `fields` if it has `tag` (an OPTIONAL field), advancing past it.
pub fn optional<'a>(fields: &mut std::iter::Peekable<std::slice::Iter<'_, Tlv<'a>>>, tag: u8) -> Option<Tlv<'a>> {
    fields.next_if(|t| t.tag == tag).copied()
}

/// Nothing may follow the fields a structure defines.
pub fn end<'b, 'a: 'b>(fields: &mut impl Iterator<Item = &'b Tlv<'a>>, what: &str) -> Result<(), Error> {
    match fields.next() {
        None => Ok(()),
        Some(t) => Err(malformed(&format!("{what}: unexpected field with tag {:02X}", t.tag))),
    }
}

/// The bytes of a BIT STRING holding whole bytes (a signature, a MAC): no unused bits.
pub fn whole_bytes<'a>(t: &Tlv<'a>, what: &str) -> Result<&'a [u8], Error> {
    match t.content.split_first() {
        Some((0, bytes)) if t.tag == 0x03 => Ok(bytes),
        _ => Err(malformed(&format!("{what}: not a BIT STRING of whole bytes"))),
    }
}

/// Decode a small INTEGER's content (DER: minimal two's complement).
pub fn integer_value(content: &[u8]) -> Option<i64> {
    if content.is_empty() || content.len() > 8 {
        return None;
    }
    if content.len() > 1
        && ((content[0] == 0 && content[1] & 0x80 == 0) || (content[0] == 0xFF && content[1] & 0x80 != 0))
    {
        return None;
    }
    let negative = content[0] & 0x80 != 0;
    Some(content.iter().fold(if negative { -1i64 } else { 0 }, |acc, b| (acc << 8) | *b as i64))
}

/// Context-specific, constructed, EXPLICIT tag `n` (n < 31) around `inner`.
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xA0 | n, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_values_and_keeps_raw_bytes() {
        let inner = sequence(&[integer(2), octet_string(b"ab")]);
        let outer = explicit(4, &inner);
        let t = read_one(&outer).unwrap();
        assert_eq!(t.tag, 0xA4);
        let s = read_one(t.content).unwrap();
        assert_eq!(s.raw, inner.as_slice());
        let kids = children(s.content).unwrap();
        assert_eq!(integer_value(kids[0].content), Some(2));
        assert_eq!(kids[1].content, b"ab");
        assert_eq!(integer_value(&[0xFF]), Some(-1));
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
        assert!(read_one(&[0x05, 0x00, 0x00]).is_err());
    }

    #[test]
    fn only_der_is_read() {
        // A length in the long form below 128, or with a leading zero byte: not DER.
        assert!(read_one(&[0x04, 0x81, 0x01, 0xAA]).is_err());
        assert!(read_one(&[0x04, 0x82, 0x00, 0x01, 0xAA]).is_err());
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 128]);
        assert!(read_one(&long).is_ok());
        assert!(read_one(&[0x30, 0x80, 0x00, 0x00]).is_err(), "indefinite length");
        assert_eq!(integer_value(&[0x00, 0x7F]), None, "non-minimal INTEGER");
        assert_eq!(integer_value(&[0xFF, 0x80]), None);
        assert_eq!(integer_value(&[0x00, 0x80]), Some(128));
        let bits = read_one(&[0x03, 0x02, 0x01, 0xFE]).unwrap();
        assert!(whole_bytes(&bits, "signature").is_err(), "unused bits");
        let bits = read_one(&[0x03, 0x02, 0x00, 0xFE]).unwrap();
        assert_eq!(whole_bytes(&bits, "signature").unwrap(), [0xFE]);
        let seq = sequence(&[integer(1), octet_string(b"x")]);
        let kids = children(read_one(&seq).unwrap().content).unwrap();
        let mut it = kids.iter();
        assert!(expect(&mut it, 0x04, "hash").is_err(), "a field read by its tag, not its position");
    }
}
