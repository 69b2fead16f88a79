//! The matrix as one self-contained HTML page (inline CSS and JavaScript, no fetches): broker
//! summary with statement coverage, per-area rates, findings, deviations, and the case table
//! with a coloured cell per outcome whose detail shows on hover (title) and on click
//! (`<details>`). The script adds a filter (text, "only rows where something did not pass")
//! and a count of the rows shown; without JavaScript the page is complete, just unfiltered.

use std::fmt::Write;

use super::{detail_lines, utc_date, BrokerColumn, Mark, Matrix, RenderOptions};
use crate::run::outcome::Outcome;

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

const STYLE: &str = r#"
:root { --pass:#2e9d4a; --fail:#d6373d; --error:#8e44ad; --expected_fail:#e8a317;
  --unexpected_pass:#2f7fd1; --flaky:#c2185b; --skip:#9aa3ad; --not_run:#f1f3f5; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em; color: #1d232a; }
h1 { margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #dde1e5; }
.meta { color: #56606b; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #dde1e5; padding: 3px 6px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.legend span.swatch { display: inline-block; padding: 1px 8px; margin: 2px 4px 2px 0; border-radius: 3px; }
.legend span.swatch.o-not_run { border: 1px solid #c9ced3; }
.o-pass { background: var(--pass); color: #fff; } .o-fail { background: var(--fail); color: #fff; }
.o-error { background: var(--error); color: #fff; } .o-expected_fail { background: var(--expected_fail); color: #1d232a; }
.o-unexpected_pass { background: var(--unexpected_pass); color: #fff; }
.o-flaky { background: var(--flaky); color: #fff; }
.o-skip { background: var(--skip); color: #fff; } .o-not_run { background: var(--not_run); color: #8a939c; }
#matrix td.cell { text-align: center; min-width: 5.5em; cursor: default; }
#matrix td.cell details summary { cursor: pointer; list-style: none; }
#matrix td.cell details[open] { text-align: left; }
#matrix .detail { font-size: 12px; max-width: 32em; white-space: pre-wrap; background: #fff; color: #1d232a;
  border: 1px solid #c9ced3; padding: 4px; margin-top: 4px; }
#matrix thead th { position: sticky; top: 0; z-index: 1; }
#matrix th.broker { text-align: center; }
#matrix tr.area th { background: #e9edf1; font-size: 15px; }
#matrix .title { color: #56606b; font-size: 12px; }
.finding-mark { display: inline-block; background: var(--fail); color: #fff; border-radius: 8px;
  padding: 0 6px; font-size: 11px; font-weight: bold; text-decoration: none; }
.bar { display: inline-block; height: 8px; background: var(--pass); vertical-align: middle; margin-right: 4px; }
#controls { margin: .5em 0; } #controls input[type=search] { width: 20em; }
code { font-size: 12px; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('matrix');
  var controls = document.getElementById('controls');
  if (!table || !controls) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr.case'));
  var search = document.createElement('input');
  search.type = 'search'; search.id = 'filter'; search.placeholder = 'filter cases (id, title, area)';
  var onlyBad = document.createElement('input');
  onlyBad.type = 'checkbox'; onlyBad.id = 'only-not-passed';
  var label = document.createElement('label');
  label.appendChild(onlyBad);
  label.appendChild(document.createTextNode(' only rows where a broker did not pass '));
  var count = document.createElement('span');
  count.id = 'shown-count';
  controls.appendChild(search); controls.appendChild(document.createTextNode(' '));
  controls.appendChild(label); controls.appendChild(count);
  function update() {
    var q = search.value.toLowerCase(), shown = 0;
    rows.forEach(function (r) {
      var text = r.getAttribute('data-search');
      var bad = r.getAttribute('data-not-passed') === '1';
      var show = (!q || text.indexOf(q) >= 0) && (!onlyBad.checked || bad);
      r.style.display = show ? '' : 'none';
      if (show) shown++;
    });
    Array.prototype.forEach.call(table.querySelectorAll('tbody.area-group'), function (g) {
      var any = g.querySelector('tr.case:not([style*="none"])');
      g.querySelector('tr.area').style.display = any ? '' : 'none';
    });
    count.textContent = shown + ' of ' + rows.length + ' rows shown';
  }
  search.addEventListener('input', update);
  onlyBad.addEventListener('change', update);
  update();
})();
"#;

fn broker_th(b: &BrokerColumn) -> String {
    let mut s = format!(
        "<th class=\"broker\" data-broker=\"{}\" title=\"{}\">{}",
        esc(&b.name),
        esc(&format!("{} — {}", b.display(), b.targets.join(", "))),
        esc(&b.name)
    );
    if !b.versions.is_empty() {
        let _ = write!(s, "<br><small>{}</small>", esc(&b.versions.join(" / ")));
    }
    if !b.findings.is_empty() {
        let _ = write!(
            s,
            " <a class=\"finding-mark\" href=\"#findings\" title=\"the broker crashed or hung: see Findings\">{} finding{}</a>",
            b.findings.len(),
            if b.findings.len() == 1 { "" } else { "s" }
        );
    }
    s.push_str("</th>");
    s
}

/// The background of a rate cell: red (0 %) to green (100 %).
fn rate_style(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!(
            " style=\"background: hsl({:.0}, 60%, 85%)\"",
            (r / 100.0 * 120.0).clamp(0.0, 120.0)
        ),
        None => String::new(),
    }
}

/// The matrix as an HTML page.
pub fn render(m: &Matrix, opts: &RenderOptions) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&opts.title)
    );
    let _ = writeln!(s, "<h1>{}</h1>", esc(&opts.title));
    let _ = write!(s, "<p class=\"meta\">Generated {}", esc(&opts.generated));
    if let Some((first, last)) = m.run_dates() {
        if first == last {
            let _ = write!(s, " from runs of {}", esc(&first));
        } else {
            let _ = write!(s, " from runs of {} to {}", esc(&first), esc(&last));
        }
    }
    let _ = writeln!(
        s,
        ". Brokers: {}. {} case runs (case × MQTT version).</p>",
        m.brokers
            .iter()
            .map(|b| esc(&b.display()))
            .collect::<Vec<_>>()
            .join(", "),
        m.rows.len()
    );

    // Legend.
    let _ = write!(s, "<p class=\"legend\" id=\"legend\">");
    for mk in Mark::ALL {
        let _ = write!(
            s,
            "<span class=\"swatch o-{}\" title=\"{}\">{}</span>",
            mk.key(),
            esc(mk.meaning()),
            esc(mk.label())
        );
    }
    let _ = writeln!(
        s,
        " <span class=\"finding-mark\">finding</span> the broker crashed or hung (see Findings). \
         Pass rate: pass and unexpected pass over every run that gave a verdict or an error \
         (skips and runs not made left out).</p>"
    );

    // Brokers.
    let _ = writeln!(s, "<h2 id=\"brokers\">Brokers</h2>");
    let _ = write!(
        s,
        "<table class=\"summary\" id=\"broker-summary\">\n<thead><tr><th>Broker</th><th>Version</th><th>Target</th><th>Run</th><th>Runs</th>"
    );
    for mk in Mark::counted() {
        let _ = write!(s, "<th class=\"o-{}\">{}</th>", mk.key(), esc(mk.label()));
    }
    let _ = writeln!(
        s,
        "<th>Pass rate</th><th>3.1.1 statements</th><th>5.0 statements</th></tr></thead><tbody>"
    );
    for b in &m.brokers {
        let t = m.tally(b, m.rows.iter());
        let mut dates: Vec<String> = b.started_unix_ms.iter().map(|ms| utc_date(*ms)).collect();
        dates.dedup();
        let _ = write!(
            s,
            "<tr data-broker=\"{}\"><th>{}{}</th><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
            esc(&b.name),
            esc(&b.name),
            if b.findings.is_empty() {
                String::new()
            } else {
                format!(
                    " <a class=\"finding-mark\" href=\"#findings\">{} finding{}</a>",
                    b.findings.len(),
                    if b.findings.len() == 1 { "" } else { "s" }
                )
            },
            esc(&if b.versions.is_empty() {
                "?".to_string()
            } else {
                b.versions.join(" / ")
            }),
            b.targets
                .iter()
                .map(|t| format!("<code>{}</code>", esc(t)))
                .collect::<Vec<_>>()
                .join("<br>"),
            esc(&dates.join(", ")),
            t.ran()
        );
        for mk in Mark::counted() {
            let _ = write!(s, "<td class=\"num\">{}</td>", t.count(mk));
        }
        let _ = write!(
            s,
            "<td class=\"num rate\"{}>{}{}</td>",
            rate_style(t.rate()),
            t.rate()
                .map(|r| format!(
                    "<span class=\"bar\" style=\"width:{:.0}px\"></span>",
                    r / 2.0
                ))
                .unwrap_or_default(),
            esc(&t.rate_text())
        );
        let cov = b.coverage();
        for v in ["3.1.1", "5.0"] {
            match cov.iter().find(|c| c.version.as_str() == v) {
                Some(c) => {
                    let _ = write!(
                        s,
                        "<td class=\"coverage\">{}/{} checked, {} passed",
                        c.checked, c.total, c.passed
                    );
                    if !c.not_passed.is_empty() {
                        let _ = write!(
                            s,
                            "<details><summary>{} not passed</summary><ul>",
                            c.not_passed.len()
                        );
                        for (id, cases) in &c.not_passed {
                            let _ = write!(
                                s,
                                "<li><code>{v} {}</code>: {}</li>",
                                esc(id),
                                esc(&cases.join(", "))
                            );
                        }
                        s.push_str("</ul></details>");
                    }
                    s.push_str("</td>");
                }
                None => s.push_str("<td>–</td>"),
            }
        }
        s.push_str("</tr>\n");
    }
    let _ = writeln!(
        s,
        "</tbody></table>\n<p class=\"meta\">Statements: broker-wire statements of the \
         specification index (as <code>touchstone coverage</code> counts them) cited by a case \
         that ran for the broker (not skipped); passed: every such run passed.</p>"
    );

    // Areas.
    let _ = write!(
        s,
        "<h2 id=\"areas\">By area</h2>\n<table class=\"areas\" id=\"area-summary\">\n<thead><tr><th>Area</th><th>Case runs</th>"
    );
    for b in &m.brokers {
        s.push_str(&broker_th(b));
    }
    s.push_str("</tr></thead><tbody>\n");
    for area in m.areas() {
        let _ = write!(
            s,
            "<tr><th><a href=\"#area-{}\">{}</a></th><td class=\"num\">{}</td>",
            esc(area),
            esc(area),
            m.rows_of(area).count()
        );
        for b in &m.brokers {
            let t = m.tally(b, m.rows_of(area));
            let _ = write!(
                s,
                "<td class=\"num rate\"{}>{}</td>",
                rate_style(t.rate()),
                esc(&t.rate_text())
            );
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");

    // Findings.
    if m.brokers.iter().any(|b| !b.findings.is_empty()) {
        let _ = writeln!(
            s,
            "<h2 id=\"findings\">Findings</h2>\n<ul class=\"findings\">"
        );
        for b in &m.brokers {
            for f in &b.findings {
                let _ = writeln!(
                    s,
                    "<li data-broker=\"{}\"><span class=\"finding-mark\">finding</span> <b>{}</b> (MQTT {}): {}{}. Reproducer: <code>{}</code></li>",
                    esc(&b.name),
                    esc(&b.name),
                    esc(&f.protocol),
                    esc(&f.summary),
                    f.statement
                        .as_ref()
                        .map(|st| format!(" ({} {})", st.version, esc(&st.id)))
                        .unwrap_or_default(),
                    esc(&f.reproducer)
                );
            }
        }
        s.push_str("</ul>\n");
    }

    // Deviations.
    if m.brokers.iter().any(|b| !b.deviations.is_empty()) {
        let _ = writeln!(
            s,
            "<h2 id=\"deviations\">Known deviations</h2>\n<table class=\"deviations\">\n\
             <thead><tr><th>Broker</th><th>Case</th><th>MQTT</th><th>Statement</th><th>Result</th>\
             <th>What the broker does</th><th>Evidence</th></tr></thead><tbody>"
        );
        for b in &m.brokers {
            for d in &b.deviations {
                let mark = b
                    .results
                    .get(&(d.case.clone(), d.protocol.clone()))
                    .map(|r| Mark::Ran(r.outcome))
                    .unwrap_or(Mark::NotRun);
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{} {}</td>\
                     <td class=\"o-{}\">{}</td><td>{}{}</td><td><code>{}</code></td></tr>",
                    esc(&b.name),
                    esc(&d.case),
                    esc(&d.protocol),
                    d.statement.version,
                    esc(&d.statement.id),
                    mark.key(),
                    esc(mark.label()),
                    esc(&d.reason),
                    d.reference
                        .as_ref()
                        .map(|r| format!(" ({})", esc(r)))
                        .unwrap_or_default(),
                    esc(&d.evidence)
                );
            }
        }
        s.push_str("</tbody></table>\n");
    }

    // The case table.
    let _ = writeln!(
        s,
        "<h2 id=\"cases\">Cases</h2>\n<div id=\"controls\"></div>\n<table id=\"matrix\">"
    );
    s.push_str("<thead><tr><th>Case</th><th>MQTT</th>");
    for b in &m.brokers {
        s.push_str(&broker_th(b));
    }
    s.push_str("</tr></thead>\n");
    let columns = m.brokers.len() + 2;
    for area in m.areas() {
        let n = m.rows_of(area).count();
        let _ = writeln!(
            s,
            "<tbody class=\"area-group\" data-area=\"{a}\"><tr class=\"area\" id=\"area-{a}\"><th colspan=\"{columns}\">{a} <small>({n} case run{})</small></th></tr>",
            if n == 1 { "" } else { "s" },
            a = esc(area)
        );
        for r in m.rows_of(area) {
            let not_passed = m.brokers.iter().any(|b| {
                matches!(
                    b.mark(r),
                    Mark::Ran(
                        Outcome::Fail
                            | Outcome::Error
                            | Outcome::ExpectedFail
                            | Outcome::UnexpectedPass
                    )
                )
            });
            let _ = write!(
                s,
                "<tr class=\"case\" data-id=\"{id}\" data-protocol=\"{p}\" data-not-passed=\"{}\" data-search=\"{}\">\
                 <td><code>{id}</code><div class=\"title\">{}</div></td><td>{p}</td>",
                u8::from(not_passed),
                esc(&format!("{} {} {}", r.id, r.title, r.area).to_lowercase()),
                esc(&r.title),
                id = esc(&r.id),
                p = esc(&r.protocol),
            );
            for b in &m.brokers {
                let mark = b.mark(r);
                match b.result(r) {
                    None => {
                        let _ = write!(
                            s,
                            "<td class=\"cell o-not_run\" title=\"{}\">·</td>",
                            esc(&format!("{}: not run for MQTT {}", b.name, r.protocol))
                        );
                    }
                    Some(c) => {
                        let lines = detail_lines(c);
                        let title = format!("{}: {}", b.name, lines.join("\n"));
                        if c.outcome == Outcome::Pass && c.observations.is_empty() {
                            let _ = write!(
                                s,
                                "<td class=\"cell o-{}\" title=\"{}\">{}</td>",
                                mark.key(),
                                esc(&title),
                                esc(mark.label())
                            );
                        } else {
                            let _ = write!(
                                s,
                                "<td class=\"cell o-{}\" title=\"{}\"><details><summary>{}</summary><div class=\"detail\">{}</div></details></td>",
                                mark.key(),
                                esc(&title),
                                esc(mark.label()),
                                esc(&lines.join("\n")),
                            );
                        }
                    }
                }
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n");
    }
    s.push_str("</table>\n");

    // Reports.
    let _ = writeln!(s, "<h2 id=\"reports\">Reports</h2>\n<ul>");
    for b in &m.brokers {
        let _ = writeln!(
            s,
            "<li>{}: {}{}</li>",
            esc(&b.display()),
            b.sources
                .iter()
                .map(|p| format!("<code>{}</code>", esc(p)))
                .collect::<Vec<_>>()
                .join(", "),
            if b.touchstone.is_empty() {
                String::new()
            } else {
                format!(" (Touchstone {})", esc(&b.touchstone.join(", ")))
            }
        );
    }
    let _ = write!(s, "</ul>\n<script>{SCRIPT}</script>\n</body>\n</html>\n");
    s
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
}
