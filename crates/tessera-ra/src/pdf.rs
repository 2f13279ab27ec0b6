//! The console's printable documents as PDF (A4, DejaVu Sans embedded and subset, so that
//! accented names print and extract right): a page is laid out top to bottom with titles,
//! paragraphs wrapped to the page, label-value rows, and boxes for signatures.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");
/// Points per millimetre.
const MM: f32 = 72.0 / 25.4;
const WIDTH: f32 = 210.0;
const HEIGHT: f32 = 297.0;
const MARGIN: f32 = 20.0;

/// One block of a page.
pub enum Block {
    /// The document's title.
    Title(String),
    /// A section's heading.
    Heading(String),
    /// Text wrapped to the page.
    Text(String),
    /// A label and its value on one row (the value wrapped beside the label).
    Row(String, String),
    /// Boxes side by side for signatures, each under its caption.
    Signatures(Vec<String>),
    /// Vertical space, in millimetres.
    Space(f32),
}

/// Split `text` into lines of at most `chars` characters, at spaces where possible.
fn wrap(text: &str, chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let fits = line.chars().count() + word.chars().count() < chars;
            if !line.is_empty() && !fits {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            while line.chars().count() > chars {
                let cut: String = line.chars().take(chars).collect();
                line = line.chars().skip(chars).collect();
                lines.push(cut);
            }
        }
        lines.push(line);
    }
    lines
}

/// Characters of DejaVu Sans per line at `size` points over `width` millimetres: its
/// average advance is about 0.55 em in running text; capitals and bold are wider, so
/// values (names in capitals) and captions keep a margin.
fn per_line(size: f32, width: f32) -> usize {
    ((width * MM) / (size * 0.55)) as usize
}

/// A row's label column and value column, in millimetres.
const LABEL: f32 = 55.0;
const VALUE: f32 = WIDTH - 2.0 * MARGIN - LABEL;

fn per_line_wide(size: f32, width: f32) -> usize {
    ((width * MM) / (size * 0.7)) as usize
}

/// The captions of signature boxes, each wrapped to its box's width `w`.
fn caption_lines(captions: &[String], w: f32) -> Vec<Vec<String>> {
    captions.iter().map(|c| wrap(c, per_line_wide(10.0, w))).collect()
}

/// The width of each of `n` signature boxes side by side.
fn box_width(n: usize) -> f32 {
    let n = n.max(1) as f32;
    (WIDTH - 2.0 * MARGIN - (n - 1.0) * 10.0) / n
}

/// A PDF of `blocks` (pages added as they fill), its title and language in its metadata,
/// and `footer` at the bottom of every page.
pub fn document(title: &str, lang: &str, footer: &str, blocks: &[Block]) -> Option<Vec<u8>> {
    let regular = Font::new(REGULAR.to_vec().into(), 0)?;
    let bold = Font::new(BOLD.to_vec().into(), 0)?;
    let mut doc = Document::new();
    doc.set_metadata(Metadata::new().title(title.to_owned()).language(lang.to_owned()));
    let settings = || PageSettings::from_wh(WIDTH * MM, HEIGHT * MM);
    let mut page = doc.start_page_with(settings()?);
    let mut surface = page.surface();
    let mut y = MARGIN;
    let mut number = 1;
    let footer_at = |s: &mut krilla::surface::Surface<'_>, n: i32| {
        let text = format!("{footer} · {n}");
        s.draw_text(
            Point::from_xy(MARGIN * MM, (HEIGHT - 12.0) * MM),
            regular.clone(),
            8.0,
            &text,
            false,
            TextDirection::Auto,
        );
    };
    for block in blocks {
        // Each block's height first, to start a new page when it does not fit.
        let height = match block {
            Block::Title(_) => 12.0,
            Block::Heading(_) => 9.0,
            Block::Text(t) => wrap(t, per_line(10.0, WIDTH - 2.0 * MARGIN)).len() as f32 * 5.0 + 2.0,
            Block::Row(l, v) => {
                let lines =
                    wrap(l, per_line_wide(10.0, LABEL - 3.0)).len().max(wrap(v, per_line_wide(10.0, VALUE)).len());
                lines as f32 * 5.0 + 1.0
            }
            Block::Signatures(c) => {
                let lines = caption_lines(c, box_width(c.len())).iter().map(Vec::len).max().unwrap_or(1);
                lines as f32 * 5.0 + 34.0
            }
            Block::Space(h) => *h,
        };
        if y + height > HEIGHT - 22.0 {
            footer_at(&mut surface, number);
            surface.finish();
            page.finish();
            page = doc.start_page_with(settings()?);
            surface = page.surface();
            y = MARGIN;
            number += 1;
        }
        let line = |s: &mut krilla::surface::Surface<'_>, font: &Font, size: f32, x: f32, y: f32, t: &str| {
            s.draw_text(Point::from_xy(x * MM, y * MM), font.clone(), size, t, false, TextDirection::Auto);
        };
        match block {
            Block::Title(t) => line(&mut surface, &bold, 15.0, MARGIN, y + 6.0, t),
            Block::Heading(t) => line(&mut surface, &bold, 11.5, MARGIN, y + 6.0, t),
            Block::Text(t) => {
                for (i, l) in wrap(t, per_line(10.0, WIDTH - 2.0 * MARGIN)).iter().enumerate() {
                    line(&mut surface, &regular, 10.0, MARGIN, y + 4.0 + i as f32 * 5.0, l);
                }
            }
            Block::Row(label, value) => {
                for (i, l) in wrap(label, per_line_wide(10.0, LABEL - 3.0)).iter().enumerate() {
                    line(&mut surface, &bold, 10.0, MARGIN, y + 4.0 + i as f32 * 5.0, l);
                }
                for (i, l) in wrap(value, per_line_wide(10.0, VALUE)).iter().enumerate() {
                    line(&mut surface, &regular, 10.0, MARGIN + LABEL, y + 4.0 + i as f32 * 5.0, l);
                }
            }
            Block::Signatures(captions) => {
                let w = box_width(captions.len());
                let lines = caption_lines(captions, w);
                let top = y + 3.0 + lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * 5.0;
                for (i, caption) in lines.iter().enumerate() {
                    let x = MARGIN + i as f32 * (w + 10.0);
                    for (j, l) in caption.iter().enumerate() {
                        line(&mut surface, &bold, 10.0, x, y + 5.0 + j as f32 * 5.0, l);
                    }
                    let mut pb = PathBuilder::new();
                    pb.push_rect(Rect::from_xywh(x * MM, top * MM, w * MM, 26.0 * MM)?);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        let stroke = Stroke { paint: rgb::Color::black().into(), width: 0.8, ..Default::default() };
                        surface.set_stroke(Some(stroke));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                        surface.set_fill(Some(Fill::default()));
                    }
                }
            }
            Block::Space(_) => {}
        }
        y += height;
    }
    footer_at(&mut surface, number);
    surface.finish();
    page.finish();
    doc.finish().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_wraps_at_spaces_and_long_words_are_cut() {
        assert_eq!(super::wrap("uno due tre", 7), ["uno due", "tre"]);
        assert_eq!(super::wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(super::wrap("a\nb", 10), ["a", "b"]);
    }

    #[test]
    fn a_document_is_a_pdf() {
        let pdf = super::document(
            "Prova",
            "it",
            "REQ-1",
            &[super::Block::Title("NICCOLÒ FABBRÌ".into()), super::Block::Signatures(vec!["Firma".into()])],
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
