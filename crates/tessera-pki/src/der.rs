//! The few DER encodings Tessera builds itself (public keys read off a token, ECDSA
//! signatures). Parsing is left to x509-parser.

/// Length octets.
fn length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    length(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match magnitude.iter().position(|&b| b != 0) {
        Some(i) => &magnitude[i..],
        None => &[0],
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content)
}

pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
pub fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    sequence(&[unsigned_integer(modulus), unsigned_integer(exponent)])
}

/// ECDSA-Sig-Value from the r||s concatenation PKCS#11 returns.
pub fn ecdsa_signature(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    sequence(&[unsigned_integer(r), unsigned_integer(s)])
}

/// Strip the OCTET STRING that CKA_EC_POINT is specified to be, when it is there (some
/// modules return the bare point): `point_len` is the uncompressed point's length.
pub fn ec_point(value: &[u8], point_len: usize) -> &[u8] {
    if value.len() == point_len {
        return value;
    }
    let header = value.len().saturating_sub(point_len);
    if value.first() == Some(&0x04) && (2..=3).contains(&header) { &value[header..] } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[0, 0, 1]), [2, 1, 1]);
        assert_eq!(unsigned_integer(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[0]), [2, 1, 0]);
    }

    #[test]
    fn long_lengths() {
        let v = tlv(0x04, &[7u8; 300]);
        assert_eq!(&v[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn ec_points_with_and_without_octet_string() {
        let point = [vec![4u8], vec![1u8; 64]].concat();
        let wrapped = tlv(0x04, &point);
        assert_eq!(ec_point(&wrapped, 65), &point[..]);
        assert_eq!(ec_point(&point, 65), &point[..]);
    }
}
