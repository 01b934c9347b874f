//! [`PhotoIndex`]: the photo organizer's `index.html`, rendered with the same templates,
//! stylesheet and picture markup as the run reports (see `templates.rs`).

use crate::error::{io_error, Result};
use crate::templates::{self, url_path, GENERATOR};
use serde::Serialize;
use std::path::Path;

/// One thumbnail: a picture file that links to something, both relative to the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thumbnail {
    /// URL of the picture (relative, percent-encoded).
    pub file: String,
    /// URL it links to (relative, percent-encoded).
    pub link: String,
    /// Display size in CSS pixels.
    pub width: u32,
    pub height: u32,
    /// Text for screen readers and broken pictures.
    pub alt: String,
    /// Shown when the pointer rests on it.
    pub tooltip: String,
}

impl Thumbnail {
    /// A thumbnail from paths relative to the page's folder (encoded as URLs here).
    pub fn new(
        picture: &Path,
        link: &Path,
        (width, height): (u32, u32),
        alt: impl Into<String>,
        tooltip: impl Into<String>,
    ) -> Self {
        Thumbnail {
            file: url_path(picture),
            link: url_path(link),
            width,
            height,
            alt: alt.into(),
            tooltip: tooltip.into(),
        }
    }
}

/// A titled group of thumbnails (one folder of the organized tree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexGroup {
    pub title: String,
    pub thumbnails: Vec<Thumbnail>,
    /// Shown open (long lists of small groups, such as days, start closed).
    pub open: bool,
    /// A line under the title (why an album has its name, its tags); empty for none.
    pub caption: String,
}

impl IndexGroup {
    /// An open group without a caption.
    pub fn new(title: impl Into<String>, thumbnails: Vec<Thumbnail>) -> Self {
        IndexGroup {
            title: title.into(),
            thumbnails,
            open: true,
            caption: String::new(),
        }
    }
}

/// One grouping (by date, by place, ...): a heading and its groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexSection {
    /// Anchor of the section (`#id` in the navigation); made of `[a-z0-9-]` by
    /// [`IndexSection::new`].
    pub id: String,
    pub heading: String,
    pub groups: Vec<IndexGroup>,
}

impl IndexSection {
    pub fn new(heading: impl Into<String>, groups: Vec<IndexGroup>) -> Self {
        let heading = heading.into();
        let id = heading
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        IndexSection {
            id,
            heading,
            groups,
        }
    }
}

/// A file that was left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedItem {
    pub name: String,
    pub reason: String,
}

/// The photo index page: sections of groups of linked thumbnails, and the skipped files.
/// All text is HTML-escaped by the template engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoIndex {
    pub title: String,
    /// Lines under the title (counts, source folder).
    pub subtitle: Vec<String>,
    pub sections: Vec<IndexSection>,
    pub skipped: Vec<SkippedItem>,
}

#[derive(Serialize)]
struct Context<'a> {
    #[serde(flatten)]
    index: &'a PhotoIndex,
    generator: &'static str,
}

impl PhotoIndex {
    /// The page as HTML text.
    pub fn render(&self) -> Result<String> {
        templates::render(
            "photo-index.html",
            Context {
                index: self,
                generator: GENERATOR,
            },
        )
    }

    /// Renders the page into `path` (replacing it).
    pub fn write(&self, path: &Path) -> Result<()> {
        let html = self.render()?;
        std::fs::write(path, html).map_err(io_error(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> PhotoIndex {
        let thumb = |name: &str| {
            Thumbnail::new(
                &Path::new("thumbs").join(format!("{name}.jpg")),
                &Path::new("by-date/2003/2003-11-23").join(name),
                (160, 120),
                name,
                format!("{name} — 2003-11-23 10:00"),
            )
        };
        PhotoIndex {
            title: "Photo index".into(),
            subtitle: vec!["2 photos from /photos & <friends>".into()],
            sections: vec![IndexSection::new(
                "by-date",
                vec![IndexGroup::new(
                    "2003/2003-11-23 (2 photos)",
                    vec![thumb("a b.jpg"), thumb("<x>.jpg")],
                )],
            )],
            skipped: vec![SkippedItem {
                name: "broken/half.jpg".into(),
                reason: "JPEG data: unexpected end".into(),
            }],
        }
    }

    #[test]
    fn page_has_one_linked_thumbnail_per_photo_and_escapes_names() {
        let html = index().render().expect("render");
        assert_eq!(html.matches("<img ").count(), 2);
        assert!(html.contains(
            "<a href=\"by-date/2003/2003-11-23/a%20b.jpg\" title=\"a b.jpg — 2003-11-23 10:00\"><img loading=\"lazy\" src=\"thumbs/a%20b.jpg.jpg\" width=\"160\" height=\"120\" alt=\"a b.jpg\"></a>"
        ), "{html}");
        assert!(html.contains("&lt;x&gt;.jpg"), "names are escaped");
        assert!(!html.contains("<x>"));
        assert!(html.contains("&#x2f;photos &amp; &lt;friends&gt;"));
        assert!(html.contains("<a href=\"#by-date\">by-date</a>"));
        assert!(html.contains("<section id=\"by-date\">"));
        assert!(html.contains("<td class=\"text\">broken&#x2f;half.jpg</td>"));
        // The same layout and stylesheet as the run reports.
        assert!(html.contains("<header>") && html.contains(".cluster {"));
        assert!(html.contains(GENERATOR));
    }

    #[test]
    fn section_ids_are_plain_anchors() {
        assert_eq!(
            IndexSection::new("near duplicates/Ä", vec![]).id,
            "near-duplicates--"
        );
    }
}
