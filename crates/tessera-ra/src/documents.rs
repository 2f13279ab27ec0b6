//! Documents operators upload (signed forms, identity documents' scans, proofs of
//! representation): only PDF, JPEG and PNG, judged by their content, not their name or
//! the type the browser claims; each within a size limit.

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Pdf,
    Jpeg,
    Png,
    /// A CAdES signature (.p7m), for a form signed remotely.
    Cms,
}

impl Media {
    /// The type the document is served back with.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::Pdf => "application/pdf",
            Media::Jpeg => "image/jpeg",
            Media::Png => "image/png",
            Media::Cms => "application/pkcs7-mime",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Media::Pdf => "pdf",
            Media::Jpeg => "jpg",
            Media::Png => "png",
            Media::Cms => "p7m",
        }
    }

    pub fn from_content_type(t: &str) -> Option<Media> {
        [Media::Pdf, Media::Jpeg, Media::Png, Media::Cms].into_iter().find(|m| m.content_type() == t)
    }
}

/// The media `bytes` are, by their first bytes (and their last, for PDF and PNG, which end
/// in a known way): None for anything else, an executable renamed `.pdf` among them.
pub fn sniff(bytes: &[u8]) -> Option<Media> {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
    if bytes.starts_with(b"%PDF-") && has(b"%%EOF") {
        return Some(Media::Pdf);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9]) {
        return Some(Media::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && has(b"IEND") {
        return Some(Media::Png);
    }
    None
}

/// The kinds of document, and what a step asks for.
pub mod kinds {
    /// The request form signed by holder and operator (scanned).
    pub const SIGNED_FORM: &str = "signed-form";
    /// The request form signed remotely with a qualified certificate (.p7m).
    pub const SIGNED_FORM_P7M: &str = "signed-form-p7m";
    pub const ID_FRONT: &str = "id-front";
    pub const ID_BACK: &str = "id-back";
    /// For a role in an organisation: the proof of representation.
    pub const REPRESENTATION: &str = "representation";
    /// A lifecycle change's signed form, and the requester's identity document.
    pub const LIFECYCLE_FORM: &str = "lifecycle-form";
    pub const REQUESTER_ID: &str = "requester-id";
    /// A contact change's identity document (front, back).
    pub const CONTACT_ID: &str = "contact-id";
    /// Every kind.
    pub const ALL: [&str; 8] =
        [SIGNED_FORM, SIGNED_FORM_P7M, ID_FRONT, ID_BACK, REPRESENTATION, LIFECYCLE_FORM, REQUESTER_ID, CONTACT_ID];
}

#[cfg(test)]
mod tests {
    use super::{Media, sniff};

    #[test]
    fn documents_are_judged_by_their_content() {
        assert_eq!(sniff(b"%PDF-1.7\n1 0 obj\n%%EOF\n"), Some(Media::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0xFF, 0xD9]), Some(Media::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....IEND\xaeB`\x82"), Some(Media::Png));
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None, "an executable, whatever its name");
        assert_eq!(sniff(b"<html>%PDF-1.7 %%EOF"), None, "a PDF marker not at the start");
        assert_eq!(sniff(b"%PDF-1.7 no end"), None, "a truncated PDF");
        assert_eq!(sniff(b""), None);
    }
}
