#!/usr/bin/env python3
"""Checks of the mmlab reference site that Doxygen cannot make itself.

scripts/docs.sh runs these; each prints its findings as `file:line: message`
(paths relative to the repository's root) and exits 1 if there is any.
Python 3 standard library only.

  headers ROOT CHAPTER...        every .h under common/include and chN/include
                                 has an @file block (Doxygen 1.9.4 silently
                                 drops everything in a header without one) and
                                 every enum value has a doc comment (1.9.4 does
                                 not warn about undocumented enum values)
  chapters ROOT OUT CHAPTER...   write OUT, the page that lists the chapters'
                                 guides (chN/README.md) in chapter order, and
                                 beside it the guides as the site shows them
                                 (links to files turned into links to their
                                 pages: see site_guide()); a chapter without a
                                 guide is an error
  params ROOT XMLDIR             every parameter of every documented function a
                                 public header (common/include, chN/include)
                                 declares is named in its comment, by @p or
                                 @param (see WARN_NO_PARAMDOC in docs/Doxyfile)
  links HTMLDIR [--xml X] [--diagrams D]
                                 every href and src of every page, and every
                                 page the tree view lists, leads to a file that
                                 exists and, with a #fragment, to an anchor in
                                 it; every diagram of D is drawn on some page
  browser --chromium C --html H --shots D
                                 headless Chromium loads the main page and a
                                 chapter guide: no console error, no uncaught
                                 exception, no failed load, the tree view and
                                 the theme are there; screenshots into D
"""

import argparse
import base64
import fcntl
import html.parser
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

findings = []


def report(path, line, message):
    findings.append(f"{path}:{line}: {message}")


def finish(what):
    for f in findings:
        print(f, file=sys.stderr)
    if findings:
        print(f"docs: {what}: {len(findings)} problem(s)", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- C headers

TOKEN = re.compile(
    r"""(?P<comment>/\*.*?\*/|//[^\n]*)
      | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
      | (?P<pp>^[ \t]*\#(?:\\\n|[^\n])*)
      | (?P<ident>[A-Za-z_]\w*)
      | (?P<punct>[{}(),;=\[\]])
      | (?P<other>\S)""",
    re.S | re.M | re.X,
)


def tokens(text):
    """(kind, text, line) for each token; comments are classified by what
    they document: 'before' (/** /*! /// //!), 'after' (the same with <)."""
    line = 1
    pos = 0
    for m in TOKEN.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        kind = m.lastgroup
        tok = m.group()
        if kind == "comment":
            if re.match(r"(/\*\*|/\*!|///|//!)<", tok):
                kind = "after"
            elif re.match(r"/\*\*(?!/)|/\*!|///(?!/)|//!", tok) and tok not in ("/**/",):
                kind = "before"
            else:
                kind = "plain"
        yield kind, tok, line


def has_file_block(text):
    """True if a Doxygen comment of header @p text holds @file."""
    return any(k == "before" and re.search(r"[@\\]file\b", t) for k, t, _ in tokens(text))


def check_header(path, rel):
    text = open(path, encoding="utf-8").read()
    toks = list(tokens(text))
    if not has_file_block(text):
        report(rel, 1, "no @file block: Doxygen ignores every declaration in a header without one "
               "(start it with /** @file name.h @brief ... */)")
    code = [t for t in toks if t[0] not in ("plain", "pp")]
    i = 0
    while i < len(code):
        kind, tok, line = code[i]
        if kind == "ident" and tok == "enum":
            j = i + 1
            while j < len(code) and code[j][0] in ("ident", "before", "after"):
                j += 1
            if j < len(code) and code[j][1] == "{":
                i = check_enum_body(code, j, rel)
                continue
        i += 1


def check_enum_body(code, open_brace, rel):
    """Check the enumerators between code[open_brace] ('{') and its '}'.
    Returns the index after the closing brace."""
    items = []  # [name, line, documented]
    depth = 0
    expect_name = True
    pending_before = False
    i = open_brace + 1
    while i < len(code):
        kind, tok, line = code[i]
        if kind == "punct" and tok in "([":
            depth += 1
        elif kind == "punct" and tok in ")]":
            depth -= 1
        elif kind == "punct" and tok == "}" and depth == 0:
            break
        elif kind == "punct" and tok == "," and depth == 0:
            expect_name = True
        elif kind == "before":
            pending_before = True
        elif kind == "after":
            if items:
                items[-1][2] = True
        elif kind == "ident" and expect_name and depth == 0:
            items.append([tok, line, pending_before])
            pending_before = False
            expect_name = False
        i += 1
    for name, line, documented in items:
        if not documented:
            report(rel, line, f"enum value {name} has no doc comment "
                   "(/**< ... */ after it, or /** ... */ before it)")
    return i + 1


def cmd_headers(args):
    dirs = ["common/include"] + [f"{c}/include" for c in args.chapters]
    for d in dirs:
        full = os.path.join(args.root, d)
        if not os.path.isdir(full):
            continue
        for dirpath, _, files in sorted(os.walk(full)):
            for f in sorted(files):
                if f.endswith(".h"):
                    p = os.path.join(dirpath, f)
                    check_header(p, os.path.relpath(p, args.root))
    return finish("headers")


# ---------------------------------------------------------------- the chapter list

def md_title(text):
    """The `# Title` of a Markdown page and its {#label}, if it starts with one."""
    for line in text.splitlines():
        if line.strip():
            m = re.match(r"#\s+(.*?)\s*(?:\{#([\w-]+)\})?\s*$", line)
            return (m.group(1), m.group(2)) if m else (None, None)
    return None, None


def page_id(root, path):
    """The name of the page Doxygen makes of Markdown file `path`: its first
    heading's {#label}, else md_ and its path (Doxygen 1.9.4's rule)."""
    title, label = md_title(open(path, encoding="utf-8").read())
    if label:
        return label
    return "md_" + re.sub(r"[^A-Za-z0-9]", "_", os.path.splitext(os.path.relpath(path, root))[0])


MD_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])+)\]\(\s*([^()\s]+)(\s+\"[^\"]*\")?\s*\)")


def site_guide(root, chapter, text, chapters):
    """A chapter's README.md as the site shows it. The guide is written to read
    well on a Git host too, where a link to `include/frame.h` or
    `../ch2/README.md` opens that file; on the site such links must lead to
    the file's or the guide's page. So: a relative link to a chapter guide or
    a page of docs/ becomes `@ref <page>`, one to a header with an @file block
    `@ref <path>`, and one to anything else the site has no page for (tests,
    directories, scripts) becomes its plain text. The first heading gets the
    label {#chN} (unless it has one), so that the page is chN.html. Line
    numbers do not change: Doxygen's warnings still point into the README."""
    docs_pages = {}
    for c in chapters:
        readme = os.path.join(root, c, "README.md")
        if os.path.isfile(readme):
            docs_pages[os.path.normpath(readme)] = guide_id(root, c, readme)
    docs_dir = os.path.join(root, "docs")
    for f in os.listdir(docs_dir):
        if f.endswith(".md"):
            p = os.path.join(docs_dir, f)
            docs_pages[os.path.normpath(p)] = "index" if f == "index.md" else page_id(root, p)

    def rewrite(m):
        text, target = m.group(1), m.group(2)
        if re.match(r"[a-zA-Z][\w+.-]*:|#|@|\\", target):
            return m.group(0)  # a URL, an anchor of this page, or a Doxygen reference
        path = os.path.normpath(os.path.join(root, chapter, urllib.parse.unquote(target.split("#")[0])))
        if path in docs_pages:
            return f"[{text}](@ref {docs_pages[path]})"
        if path.endswith(".h") and os.path.isfile(path) and \
                has_file_block(open(path, encoding="utf-8", errors="replace").read()):
            return f"[{text}](@ref {os.path.relpath(path, root)})"
        return text

    lines = text.split("\n")
    in_fence = False
    for i, line in enumerate(lines):
        if re.match(r"\s*(```|~~~)", line):
            in_fence = not in_fence
        elif not in_fence:
            lines[i] = MD_LINK.sub(rewrite, line)
    for i, line in enumerate(lines):
        if line.strip():
            if re.match(r"#\s", line) and not re.search(r"\{#[\w-]+\}\s*$", line):
                lines[i] = line.rstrip() + " {#" + chapter + "}"
            break
    return "\n".join(lines)


def guide_id(root, chapter, readme):
    title, label = md_title(open(readme, encoding="utf-8").read())
    if label:
        return label
    # No title: Doxygen names the page after the file it reads, the copy
    # in build/docs/gen (and the chapters check reports the missing title).
    return chapter if title else "md_build_docs_gen_" + re.sub(r"\W", "_", chapter) + "_README"


def cmd_chapters(args):
    lines = [
        "# The chapters {#chapters}",
        "",
        "Each chapter adds one layer of memory management to the kernel, on top of",
        "the ones before it; its guide says what the layer does, how it is built, what",
        "you write and how it is graded. Kernel N is built from common/ and ch1/ .. chN/.",
        "",
    ]
    gen = os.path.dirname(args.out)
    guides = 0
    for c in args.chapters:
        readme = os.path.join(args.root, c, "README.md")
        if not os.path.isfile(readme):
            report(f"{c}/README.md", 1, f"missing: chapter {c} has no guide (every chapter needs one)")
            continue
        text = open(readme, encoding="utf-8").read()
        if md_title(text)[0] is None:
            report(f"{c}/README.md", 1, "the guide does not start with a `# Title` heading "
                   "(its title on the site)")
        os.makedirs(os.path.join(gen, c), exist_ok=True)
        with open(os.path.join(gen, c, "README.md"), "w", encoding="utf-8") as f:
            f.write(site_guide(args.root, c, text, args.chapters))
        lines.append(f"- @subpage {guide_id(args.root, c, readme)}")
        guides += 1
    if guides == 0:
        lines.append("No chapter guide is present in this tree yet.")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return finish("chapters")


# ---------------------------------------------------------------- parameters

def all_text(elem):
    return "".join(elem.itertext()) if elem is not None else ""


def cmd_params(args):
    index = os.path.join(args.xml, "index.xml")
    if not os.path.exists(index):
        report("build/docs/xml/index.xml", 0, "missing: was GENERATE_XML turned off?")
        return finish("params")
    seen = set()
    for name in sorted(os.listdir(args.xml)):
        if not name.endswith(".xml") or name == "index.xml":
            continue
        tree = ET.parse(os.path.join(args.xml, name))
        for member in tree.iter("memberdef"):
            loc = member.find("location")
            path = loc.get("declfile") or loc.get("file")
            line = loc.get("declline") or loc.get("line")
            fname = member.findtext("name")
            # Public functions: those a header of common/include or chN/include
            # declares (headers under src/ are a chapter's internals; .c files'
            # functions are not API). Undocumented ones are Doxygen's to
            # report (WARN_IF_UNDOCUMENTED).
            public = path.endswith(".h") and "/include/" in "/" + path
            if member.get("kind") != "function" or not public or (path, fname) in seen:
                continue
            seen.add((path, fname))
            docs = [member.find(t) for t in ("briefdescription", "detaileddescription", "inbodydescription")]
            if not any(all_text(d).strip() for d in docs):
                continue
            named = set()
            for d in docs:
                if d is None:
                    continue
                for el in d.iter():
                    if el.tag in ("parametername", "computeroutput", "emphasis", "bold"):
                        named.update(re.findall(r"\w+", all_text(el)))
            rel = os.path.relpath(path, args.root) if os.path.isabs(path) else path
            for param in member.findall("param"):
                pname = param.findtext("declname")
                if not pname:
                    continue
                if pname not in named:
                    report(rel, line, f"parameter '{pname}' of {fname}() is not named in its comment "
                           f"(@p {pname} in the text, or @param {pname})")
    return finish("params")


# ---------------------------------------------------------------- links

class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs = []  # (attr value, line)
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if v is None:
                continue
            if k in ("href", "src") and not (tag == "link" and k == "href" and v.startswith("http")):
                self.refs.append((v, self.getpos()[0]))
            if k == "id" or (k == "name" and tag == "a"):
                self.ids.add(v)


def anonymous_type_anchors(xml_dir):
    """Anchors of struct members whose type is an anonymous struct or union
    (`struct { ... } free;`). Doxygen 1.9.4 links to them but writes no
    anchor (doxygen#9067 and #9661, fixed in 1.9.6): the link still opens the
    right page, at its top. Those are counted, not failed."""
    anchors = set()
    if not xml_dir or not os.path.isdir(xml_dir):
        return anchors
    for name in os.listdir(xml_dir):
        if name.endswith(".xml") and name.startswith(("struct", "union")):
            for m in ET.parse(os.path.join(xml_dir, name)).iter("memberdef"):
                if "@" in (m.findtext("type") or ""):
                    anchors.add(m.get("id").rsplit("_1", 1)[-1])
    return anchors


def cmd_links(args):
    top = os.path.abspath(args.html)
    parsed = {}
    known_defect = anonymous_type_anchors(args.xml)
    defects = set()

    def parse(path):
        if path not in parsed:
            p = Refs()
            with open(path, encoding="utf-8", errors="replace") as f:
                p.feed(f.read())
            parsed[path] = p
        return parsed[path]

    def check(src_rel, line, ref, base):
        u = urllib.parse.urlsplit(ref)
        if u.scheme or ref.startswith("//"):
            if u.scheme == "file":
                report(src_rel, line, f"absolute file: link {ref} (works on this machine only)")
            return  # external (http, https, mailto, javascript, data): not ours to check
        target = os.path.normpath(os.path.join(base, urllib.parse.unquote(u.path))) if u.path else None
        if target is None:
            target = os.path.join(base, os.path.basename(src_rel))
        if os.path.commonpath([target, top]) != top:
            report(src_rel, line, f"link leaves the site: {ref}")
            return
        if not os.path.exists(target):
            report(src_rel, line, f"broken link: {ref} (no {os.path.relpath(target, top)})")
            return
        if u.fragment and target.endswith(".html") and u.fragment not in parse(target).ids:
            if u.fragment in known_defect:
                defects.add(ref)
                return
            report(src_rel, line, f"broken anchor: {ref} (no id '{u.fragment}' in {os.path.relpath(target, top)})")

    pages = 0
    for dirpath, _, files in os.walk(top):
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, os.path.dirname(top))
            if f.endswith(".html"):
                pages += 1
                for ref, line in parse(path).refs:
                    check(rel, line, ref, dirpath)
            elif re.match(r"navtree(data|index\d+)\.js$", f):
                # The tree view's entries: [ "title", "page.html#anchor", ... ]
                text = open(path, encoding="utf-8").read()
                for m in re.finditer(r'"([^"\s]+\.html(?:#[^"]*)?)"', text):
                    line = text.count("\n", 0, m.start()) + 1
                    check(rel, line, m.group(1), dirpath)
    if pages == 0:
        report(args.html, 0, "no pages")
    # Every diagram source is drawn on some page (Doxygen writes dot_NAME.svg
    # for each @dotfile NAME.dot it renders).
    if args.diagrams and os.path.isdir(args.diagrams):
        for f in sorted(os.listdir(args.diagrams)):
            if f.endswith(".dot") and not os.path.exists(os.path.join(top, "dot_" + f[:-4] + ".svg")):
                report(os.path.join("docs/diagrams", f), 1, "diagram shown on no page "
                       f"(add `@dotfile {f} \"caption\"` to a page or a guide)")
    rc = finish("links")
    if rc == 0:
        print(f"docs: links: {pages} pages, no broken internal link")
    if defects:
        print(f"docs: links: note: {len(defects)} link(s) to members of anonymous-struct type "
              f"({', '.join(sorted(defects))}) have no anchor: a Doxygen 1.9.4 defect, not counted")
    return rc


# ---------------------------------------------------------------- the browser

class DevTools:
    """Chromium's DevTools protocol over --remote-debugging-pipe: JSON messages,
    each ended by a NUL byte; Chromium reads fd 3 and writes fd 4."""

    def __init__(self, chromium, profile, extra):
        self.log = open(os.path.join(profile, "chromium.log"), "w+b")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Move both ends above 9 first, so that neither dup2 clobbers the
            # other, then onto 3 and 4 (inheritable: dup2 clears close-on-exec).
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions",
             "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", *extra, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
            close_fds=False, preexec_fn=child_fds)  # close_fds would close 3 and 4
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            r, _, _ = select.select([self.from_chrome], [], [], left)
            if r:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe (did it crash?)")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=20):
        want = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.read(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout=20):
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e["method"] == method:
                del self.events[i]
                return e
        while True:
            msg = self.read(deadline)
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                msg = self.read(deadline)
                if "method" in msg:
                    self.events.append(msg)
        except TimeoutError:
            pass

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        self.log.close()


TREE_READY = "document.querySelector('#nav-tree .selected') !== null"

# Evaluated in the page once it has loaded: what a reader would see missing.
PAGE_PROBE = """(() => {
  const css = getComputedStyle(document.documentElement);
  return JSON.stringify({
    theme: css.getPropertyValue('--primary-color').trim() !== '',
    toggle: document.querySelector('doxygen-awesome-dark-mode-toggle') !== null,
    tree: document.querySelectorAll('#nav-tree-contents li').length,
    selected: (document.querySelector('#nav-tree .selected') || {}).textContent || '',
    search: document.getElementById('MSearchField') !== null,
    title: (document.querySelector('.title') || {}).textContent || '',
    graphs: document.querySelectorAll('iframe[src$=".svg"], img[src$=".svg"]:not(.footer):not([src*="search"])').length,
    brokenImages: [...document.images].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src),
  });
})()"""


def check_page(dt, url, shot, width, height):
    target = dt.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = dt.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        dt.call(f"{domain}.enable", session=session)
    dt.call("Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
    dt.events.clear()
    nav = dt.call("Page.navigate", {"url": url}, session=session)
    if nav.get("errorText"):
        return [f"{url}: cannot load: {nav['errorText']}"], {}
    dt.wait_event("Page.loadEventFired")
    # The tree view fills in and finds the current page after the load, from
    # navtreeindex*.js: wait for it (at most a few seconds), then a little more.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ready = dt.call("Runtime.evaluate", {"expression": TREE_READY, "returnByValue": True},
                        session=session)["result"].get("value")
        if ready:
            break
        dt.drain(0.1)
    dt.drain(0.3)
    probe = json.loads(dt.call("Runtime.evaluate", {"expression": PAGE_PROBE, "returnByValue": True},
                               session=session)["result"]["value"])
    png = dt.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png))
    problems = []
    for e in dt.events:
        if e.get("sessionId") not in (None, session):
            continue
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            problems.append(f"{d.get('url', url)}:{d.get('lineNumber', 0) + 1}: uncaught exception: {text}")
        elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            problems.append(f"{url}: console.{p['type']}: {text}")
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            entry = p["entry"]
            problems.append(f"{entry.get('url') or url}: {entry['source']} error: {entry['text']}")
    if not probe["theme"]:
        problems.append(f"{url}: the doxygen-awesome theme did not load (no --primary-color)")
    if not probe["toggle"]:
        problems.append(f"{url}: no dark-mode toggle")
    if probe["tree"] == 0:
        problems.append(f"{url}: the tree view is empty")
    elif not probe["selected"]:
        problems.append(f"{url}: the tree view does not show where this page is")
    if not probe["search"]:
        problems.append(f"{url}: no search box")
    for src in probe["brokenImages"]:
        problems.append(f"{url}: image does not load: {src}")
    dt.call("Target.closeTarget", {"targetId": target})
    return problems, probe


def cmd_browser(args):
    top = os.path.abspath(args.html)
    pages = [("index", "index.html")]
    # One chapter guide: the first the chapter list links to.
    chapters = os.path.join(top, "chapters.html")
    if os.path.exists(chapters):
        m = re.search(r'<li><a class="el" href="([^"#]+\.html)"', open(chapters, encoding="utf-8").read())
        if m:
            pages.append((os.path.splitext(m.group(1))[0], m.group(1)))
    for extra in args.page or []:
        pages.append((re.sub(r"\W+", "-", os.path.splitext(extra)[0]), extra))
    profile = tempfile.mkdtemp(prefix="mmlab-chromium-")
    start = time.monotonic()
    dt = DevTools(args.chromium, profile, [f"--window-size={args.width},{args.height}"])
    try:
        for name, page in pages:
            url = "file://" + urllib.parse.quote(os.path.join(top, page))
            shot = os.path.join(args.shots, f"screenshot-{name}.png")
            problems, probe = check_page(dt, url, shot, args.width, args.height)
            for p in problems:
                findings.append(f"build/docs/html/{page}: {p}")
            print(f"docs: browser: {page}: \"{probe.get('title', '').strip()}\", "
                  f"{probe.get('tree', 0)} tree entries, {probe.get('graphs', 0)} graphs, "
                  f"{len(problems)} problem(s); screenshot {os.path.relpath(shot)}")
    except (TimeoutError, RuntimeError) as e:
        dt.log.seek(0)
        err = dt.log.read()[-3000:].decode(errors="replace")
        findings.append(f"chromium: {e}; its last words:\n{err}")
    finally:
        dt.close()
        shutil.rmtree(profile, ignore_errors=True)
    if len(pages) < 2:
        findings.append("build/docs/html/chapters.html: no chapter guide to load")
    rc = finish("browser")
    if rc == 0:
        print(f"docs: browser: {len(pages)} pages load cleanly ({time.monotonic() - start:.1f} s)")
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("headers")
    p.add_argument("root")
    p.add_argument("chapters", nargs="*")
    p = sub.add_parser("chapters")
    p.add_argument("root")
    p.add_argument("out")
    p.add_argument("chapters", nargs="*")
    p = sub.add_parser("params")
    p.add_argument("root")
    p.add_argument("xml")
    p = sub.add_parser("links")
    p.add_argument("html")
    p.add_argument("--xml", help="Doxygen's XML output, to recognise a known Doxygen defect")
    p.add_argument("--diagrams", help="docs/diagrams: every .dot there must be drawn on a page")
    p = sub.add_parser("browser")
    p.add_argument("--chromium", default="chromium")
    p.add_argument("--html", required=True)
    p.add_argument("--shots", required=True)
    p.add_argument("--page", action="append", help="another page to load (relative to --html)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=900)
    args = ap.parse_args()
    return {"headers": cmd_headers, "chapters": cmd_chapters, "params": cmd_params,
            "links": cmd_links, "browser": cmd_browser}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
