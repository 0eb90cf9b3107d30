//! Campaign instructions: written by admins in Markdown, shown to annotators as safe HTML.

/// Markdown to HTML for instructions written by admins. Raw HTML is escaped rather than passed
/// through, links and images keep only web, mail and relative addresses (a `javascript:` link
/// would run in the annotator's page), and headings start at level 3, under the page's own.
pub fn markdown_html(text: &str) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd, html};
    fn safe(url: &str) -> bool {
        // Browsers ignore tabs and newlines inside a URL, so "java\tscript:" is still a scheme.
        let u: String =
            url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
        match u.split_once(':') {
            // A colon after a '/', '?' or '#' is part of a relative address, not a scheme.
            Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => matches!(scheme, "http" | "https" | "mailto"),
            _ => true,
        }
    }
    fn lower(l: HeadingLevel) -> HeadingLevel {
        match l {
            HeadingLevel::H1 => HeadingLevel::H3,
            HeadingLevel::H2 => HeadingLevel::H4,
            HeadingLevel::H3 => HeadingLevel::H5,
            _ => HeadingLevel::H6,
        }
    }
    let events = Parser::new(text).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: "#".into(), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: "".into(), title, id })
        }
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: lower(level), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::markdown_html;

    #[test]
    fn instructions_render_markdown_but_not_raw_html() {
        let html = markdown_html("Listen **twice**.\n\n- tick what you hear\n\n<script>alert(1)</script>");
        assert!(html.contains("<strong>twice</strong>"), "{html}");
        assert!(html.contains("<li>tick what you hear</li>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn instructions_keep_only_safe_links_and_their_headings_stay_under_the_page_s() {
        let html = markdown_html(
            "# Title\n\n[bad](javascript:alert(document.cookie)) [Bad](JaVaScRiPt:x) [data](data:text/html,x) \
             ![img](javascript:x) [tab](<java\tscript:x>) [ok](https://example.org/a:b) [rel](/help?x=a:b) [mail](mailto:a@b.org)",
        );
        assert!(!html.to_ascii_lowercase().contains("script:") && !html.contains("data:"), "{html}");
        assert!(html.contains(r#"href="https://example.org/a:b""#), "{html}");
        assert!(html.contains(r#"href="/help?x=a:b""#) && html.contains(r#"href="mailto:a@b.org""#), "{html}");
        assert!(html.contains("<h3>Title</h3>") && !html.contains("<h1>"), "{html}");
    }
}
