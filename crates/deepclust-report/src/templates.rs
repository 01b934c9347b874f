//! The one template environment of every page deepclust writes: the run report and the
//! photo organizer's index share `base.html` (layout), `style.css` (inlined stylesheet) and
//! `macros.html` (picture and thumbnail markup). Templates whose names end in `.html` are
//! HTML-escaped automatically (minijinja's default).

use crate::error::Result;
use minijinja::Environment;
use std::path::Path;

/// (name, source) of every template, compiled into the binary.
const TEMPLATES: [(&str, &str); 5] = [
    ("base.html", include_str!("../templates/base.html")),
    ("style.css", include_str!("../templates/style.css")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("report.html", include_str!("../templates/report.html")),
    (
        "photo-index.html",
        include_str!("../templates/photo-index.html"),
    ),
];

/// Written into every page's `generator` meta tag and footer.
pub(crate) const GENERATOR: &str = concat!("deepclust-report ", env!("CARGO_PKG_VERSION"));

/// The environment with every template and the filters they use.
pub(crate) fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.add_filter("pct", |v: f64| format!("{:.1}%", v * 100.0));
    env.add_filter("fixed3", |v: f64| format!("{v:.3}"));
    // URLs go into attributes as they are: `/` stays readable (the HTML escaper would write
    // `&#x2f;`), and anything an attribute could be broken with is percent-encoded first.
    env.add_filter("url", |v: String| {
        minijinja::Value::from_safe_string(encode_bytes(&v, |b| {
            b == b'/' || b == b'%' || b == b'#'
        }))
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Renders template `name` with `context`.
pub(crate) fn render(name: &str, context: impl serde::Serialize) -> Result<String> {
    let env = environment()?;
    let page = env.get_template(name)?.render(context)?;
    Ok(page)
}

/// A relative path as a URL for `src`/`href`: `/` separators, each segment percent-encoded
/// except unreserved characters (RFC 3986), so spaces, `#`, `?` and non-ASCII names work
/// from disk.
pub fn url_path(path: &Path) -> String {
    path.components()
        .map(|part| encode_bytes(&part.as_os_str().to_string_lossy(), |_| false))
        .collect::<Vec<_>>()
        .join("/")
}

/// `text` with every byte percent-encoded except unreserved characters and those `keep`
/// accepts.
fn encode_bytes(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b if keep(b) => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment().expect("templates compile");
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn urls_encode_each_segment() {
        assert_eq!(
            url_path(Path::new("by-place/China/Beijing/IMG 1.jpg")),
            "by-place/China/Beijing/IMG%201.jpg"
        );
        assert_eq!(url_path(Path::new("a/é")), "a/%C3%A9");
        assert_eq!(url_path(Path::new("x/#1?.png")), "x/%231%3F.png");
    }

    #[test]
    fn the_url_filter_keeps_encoded_urls_and_encodes_the_rest() {
        let env = environment().expect("templates compile");
        let render = |url: &str| {
            env.render_str(
                "<a href=\"{{ u | url }}\">",
                minijinja::context! { u => url },
            )
            .expect("render")
        };
        assert_eq!(
            render("by-date/a%20b.jpg#x"),
            "<a href=\"by-date/a%20b.jpg#x\">"
        );
        assert_eq!(render("\"><script>"), "<a href=\"%22%3E%3Cscript%3E\">");
    }
}
