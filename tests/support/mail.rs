//! Mail as its real consumer reads it: Python's `email` package and `html.parser`.

use super::Env;

/// What Python's `email` and `html.parser` make of a raw message.
pub fn parse_mail(env: &Env, raw: &str) -> serde_json::Value {
    let path = env.write("message.eml", raw);
    let script = r#"
import email, email.policy, json, sys, csv, io
from html.parser import HTMLParser
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
out = {"subject": str(msg["subject"]), "message_id": msg["message-id"], "date": msg["date"],
       "mime_version": msg["mime-version"], "content_type": msg.get_content_type(),
       "parts": [], "attachments": {}, "text": None, "html": None}
for part in msg.walk():
    if part.is_multipart():
        continue
    out["parts"].append(part.get_content_type())
    if part.get_content_disposition() == "attachment":
        content = part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()
        # As a spreadsheet reads it: a UTF-8 BOM is no text; the header says the delimiter.
        out.setdefault("attachment_bom", {})[part.get_filename()] = content.startswith("\ufeff")
        content = content.removeprefix("\ufeff")
        delimiter = ";" if ";" in content.split("\n")[0] and "," not in content.split("\n")[0] else ","
        out.setdefault("attachment_delimiter", {})[part.get_filename()] = delimiter
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
        out["attachments"][part.get_filename()] = rows
    elif part.get_content_type() == "text/plain":
        out["text"] = part.get_content()
    elif part.get_content_type() == "text/html":
        out["html"] = part.get_content()

class Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables = 0; self.chart = 0; self.svg = 0; self.remote = []; self.cells = 0
        self.stack = []; self.text = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables += 1
            if "chart" in (a.get("class") or ""):
                self.chart += 1
        if tag in ("td", "th"):
            self.cells += 1
        if tag == "svg":
            self.svg += 1
        for k in ("src", "href", "background"):
            v = a.get(k) or ""
            if v.startswith("http") or v.startswith("//"):
                self.remote.append(v)
    def handle_data(self, data):
        self.text.append(data)
h = Html()
h.feed(out["html"] or "")
h.close()
out["html_tables"] = h.tables; out["html_charts"] = h.chart; out["html_svg"] = h.svg
out["html_remote"] = h.remote; out["html_cells"] = h.cells; out["html_text"] = " ".join(h.text)
print(json.dumps(out))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
