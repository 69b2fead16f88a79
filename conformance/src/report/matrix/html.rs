//! The matrix as one self-contained HTML page (inline CSS and JavaScript, no fetches): broker
//! summary with statement coverage, per-area rates, findings, deviations, and the case table
//! with a coloured cell per outcome whose detail shows on hover (title) and on click
//! (`<details>`). The script adds a filter (text, "only rows where something did not pass")
//! and a count of the rows shown; without JavaScript the page is complete, just unfiltered.
//!
//! The page is the template `templates/matrix.html.j2` (minijinja, HTML escaping on) over the
//! [`MatrixView`], the same model the Markdown is written from.

use minijinja::{AutoEscape, Environment};

use super::view::MatrixView;
use super::{Matrix, RenderOptions};

const TEMPLATE: &str = include_str!("templates/matrix.html.j2");

/// The matrix as an HTML page.
pub fn render(m: &Matrix, opts: &RenderOptions) -> String {
    render_view(&MatrixView::new(m, opts))
}

/// The page of a view model.
pub fn render_view(view: &MatrixView) -> String {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // The template is part of the binary and checked by the tests: it parses and renders
    // every view model, so an error here is a bug, reported in the page rather than a panic.
    let rendered = env
        .add_template("matrix.html", TEMPLATE)
        .and_then(|()| env.get_template("matrix.html"))
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(view))));
    match rendered {
        Ok(page) => page,
        Err(e) => format!(
            "<!DOCTYPE html>\n<title>matrix</title>\n<p>touchstone could not render the matrix page (a bug): {}</p>\n",
            esc(&e.to_string())
        ),
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_template_escapes_what_the_reports_say() {
        let m = Matrix {
            brokers: Vec::new(),
            rows: Vec::new(),
        };
        let mut view = MatrixView::new(
            &m,
            &RenderOptions {
                title: "<script>alert(1)</script>".into(),
                generated: "now".into(),
            },
        );
        view.title = "<b>x</b> & \"y\"".into();
        let page = render_view(&view);
        assert!(
            page.contains("<title>&lt;b&gt;x&lt;&#x2f;b&gt; &amp; &quot;y&quot;</title>"),
            "{page}"
        );
        assert!(!page.contains("<b>x</b>"));
        assert!(!page.contains("could not render"));
    }
}
