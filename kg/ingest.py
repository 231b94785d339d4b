"""Reading articles: bytes -> decoded text -> :class:`Document` (language, title, dates).

Every problem with a file becomes an :class:`ArticleError` naming the file and the reason,
or a warning kept on the document; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import stat
from functools import cache
from pathlib import Path

import yaml

from kg.dates import DateMention, find_dates, years_in
from kg.errors import ArticleError
from kg.lang import profile, supported_languages
from kg.langid import detect_language
from kg.lexicon import Lexicon
from kg.model import Document, PartialDate
from kg.text import fold

MAX_BYTES = 5_000_000
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HTML = re.compile(r"<\s*(html|body|div|p|script|head)\b", re.I)
_META_KEYS = ("title", "lang", "language", "date", "published", "pubDate", "pub_date", "datePublished")


def discover(source: Path) -> list[Path]:
    """Article files under ``source`` (a folder, searched recursively, or one file), sorted."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise ArticleError(str(source), "no such file or folder")
    # Anything named like an article is listed, so that a folder, a broken link or a pipe named
    # "x.txt" is reported by read_document() instead of vanishing from the count. Listed as strings and
    # ordered as paths order themselves (part by part, case-folded where the system folds case), by a key:
    # Path.rglob and sorting Path objects take a second at 100k files
    found: list[str] = []
    _list_articles(str(source), found)
    found.sort(key=lambda path: os.path.normcase(path).split(os.sep))
    return [Path(path) for path in found]


def _list_articles(folder: str, found: list[str]) -> None:
    """Append to ``found`` the paths named like articles in ``folder`` and, recursively, its folders (not
    those reached through a link, nor unreadable ones: what ``Path.rglob`` lists)."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except PermissionError:
        return
    for entry in entries:
        name = entry.name
        if not name.startswith(".") and os.path.splitext(name)[1].lower() in ARTICLE_SUFFIXES:
            found.append(entry.path)
        try:
            below = entry.is_dir() and not entry.is_symlink()
        except OSError:
            below = False
        if below:
            _list_articles(entry.path, found)


def decode(path: str, data: bytes) -> tuple[str, list[str]]:
    """Decode article bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1251.

    >>> decode("a.txt", "Привет".encode("cp1251"))
    ('Привет', ['decoded as windows-1251 (not UTF-8)'])
    """
    warnings: list[str] = []
    if not data.strip():
        raise ArticleError(path, "the file is empty")
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise ArticleError(path, "UTF-32 text is not supported (save it as UTF-8)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ArticleError(path, f"broken UTF-16 text ({error.reason})") from None
        if _mostly_controls(text):
            raise ArticleError(path, "binary data, not text")
        return text, ["decoded as UTF-16"]
    if b"\x00" in data[:4096]:
        raise ArticleError(path, "binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            raise ArticleError(path, "not UTF-8, UTF-16 or Windows-1251 text") from None
        # Random high bytes read as Windows-1251 are mostly letters too, but not words.
        if sum(ch.isalpha() for ch in text) < 0.5 * len(text.strip()) or len(text.strip()) > 25 * len(text.split()):
            raise ArticleError(path, "not UTF-8 text and not readable as Windows-1251 either") from None
        warnings.append("decoded as windows-1251 (not UTF-8)")
    if _mostly_controls(text):
        raise ArticleError(path, "binary data, not text")
    return text, warnings


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _mostly_controls(text: str) -> bool:
    r"""More control characters (other than line breaks and tabs) than 1% of the text, and more than 8.

    >>> _mostly_controls("a\x01b" * 9), _mostly_controls("line\n\ttab\r\n" * 50)
    (True, False)
    """
    return len(_CONTROL.findall(text)) > max(8, len(text) // 100)


def read_document(path: Path, base: Path | None = None) -> Document:
    """Read one article file into a :class:`Document`."""
    path = Path(path)
    name = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ArticleError(name, "a folder named like an article, not a file (articles inside it are read)")
        if not stat.S_ISREG(info.st_mode):  # reading a pipe or a device could block or never end
            raise ArticleError(name, "not a regular file (a pipe, socket or device); not read")
        if info.st_size > MAX_BYTES:
            raise ArticleError(name, f"too large ({info.st_size:,} bytes; the limit is {MAX_BYTES:,})")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # never more, even if the file grew after stat()
        if len(data) > MAX_BYTES:
            raise ArticleError(name, f"too large (more than {MAX_BYTES:,} bytes)")
    except FileNotFoundError:
        reason = "a link to a file that does not exist" if path.is_symlink() else "no such file"
        raise ArticleError(name, reason) from None
    except OSError as error:
        raise ArticleError(name, f"cannot be read ({error.strerror or error})") from None
    text, warnings = decode(name, data)
    # A file name that is not UTF-8 (a Latin-1 name from an archive) reaches Python with surrogate escapes,
    # which no graph serialiser can write: its identifier shows them as U+FFFD instead.
    doc_id = path.stem.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return parse_document(doc_id, name, text, warnings)


def parse_document(doc_id: str, path: str, text: str, warnings: list[str] | None = None) -> Document:
    """Build a :class:`Document` from decoded text (front matter optional)."""
    warnings = list(warnings or [])
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # decode() never gives these; a caller's own text may
            raise ArticleError(path, "not valid Unicode text (unpaired surrogate code points)") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, body_start, fm_warning = _front_matter(text)
    if fm_warning:
        warnings.append(fm_warning)
    if _HTML.search(text[body_start : body_start + 2000]):
        warnings.append("looks like HTML, not plain text; tags are read as text")
    body = text[body_start:]
    if not body.strip():
        raise ArticleError(path, "no article text after the front matter")
    language = _language(meta, body)
    title = _title(meta, text, body_start)
    published, dateline = _dates(meta, text, body_start, title, language)
    return Document(
        id=doc_id,
        path=path,
        text=text,
        body_start=body_start,
        language=language,
        title=title,
        published=published,
        dateline=dateline,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        warnings=tuple(warnings),
    )


#: libyaml's parser where PyYAML has it (the same safe constructors, a fraction of the cost).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _front_matter(text: str) -> tuple[dict, int, str | None]:
    if not text.startswith("---"):
        return {}, 0, None
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0, "front matter is not closed by a '---' line; read as article text"
    try:
        meta = yaml.load(match.group(1), Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        return {}, match.end(), f"front matter is not valid YAML{where}; ignored"
    except Exception as error:  # PyYAML's constructors raise ValueError ("date: 2024-02-31"), RecursionError ...
        reason = str(error).splitlines()[0] if isinstance(error, ValueError) and str(error) else type(error).__name__
        return {}, match.end(), f"front matter is not valid YAML ({reason}); ignored"
    if not isinstance(meta, dict):
        return {}, match.end(), "front matter is not a mapping; ignored"
    # Only single values are read: a list or mapping (or an alias to one, which str() would expand
    # exponentially, as in "billion laughs") under a key we read is dropped.
    nested = sorted(str(k) for k in _META_KEYS if isinstance(meta.get(k), list | dict))
    if nested:
        meta = {k: v for k, v in meta.items() if str(k) not in nested}
        return meta, match.end(), f"front matter {', '.join(nested)} is not a single value; ignored"
    return meta, match.end(), None


def _language(meta: dict, body: str) -> str:
    declared = str(meta.get("lang") or meta.get("language") or "").strip().lower()[:2]
    if declared in supported_languages():
        return declared
    return detect_language(body)


def _title(meta: dict, text: str, body_start: int) -> str | None:
    if meta.get("title"):
        return " ".join(str(meta["title"]).split())
    lines = [ln.strip() for ln in text[body_start:].split("\n") if ln.strip()]
    for line in lines[:12]:
        if line.startswith("#"):
            return line.lstrip("#").strip() or None
    for line in lines[:3]:
        if 15 <= len(line) <= 250 and not _is_date_line(line) and line[-1] not in ".:!?":
            return line
    for line in lines:
        if not _is_date_line(line):
            return line if len(line) <= 200 else line[:200].rsplit(" ", 1)[0] + " …"
    return None


def _is_date_line(line: str) -> bool:
    stripped = re.sub(r"[\W\d_]+", " ", line).split()
    return bool(re.search(r"\d{4}", line)) and len(stripped) <= 4


def _meta_date(meta: dict) -> PartialDate | None:
    for key in ("date", "published", "pubDate", "pub_date", "datePublished"):
        value = meta.get(key)
        if isinstance(value, _dt.datetime):
            return PartialDate.from_date(value.date())
        if isinstance(value, _dt.date):
            return PartialDate.from_date(value)
        if isinstance(value, str):
            match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
            if match:
                try:
                    return PartialDate(int(match[1]), int(match[2]), int(match[3]))
                except ValueError:
                    return None
    return None


def _dates(
    meta: dict, text: str, body_start: int, title: str | None, lang: str
) -> tuple[PartialDate | None, PartialDate | None]:
    """(publication date, the text's own date) as far as the article states them."""
    lang_for_dates = lang if lang in supported_languages() else None
    published = _meta_date(meta)
    dateline = None
    if lang_for_dates:
        head_lines = [ln for ln in text[body_start:].split("\n") if ln.strip()][:8]
        if title:
            dateline = _title_date(lang_for_dates, title)
        for line in head_lines:
            found = _date_line(lang_for_dates, line)
            if found:
                published = published or found
                break
        if published is None or dateline is None:
            found = _dateline(lang_for_dates, text, body_start, published)
            if found:
                dateline = dateline or found
                published = published or found
    return published, dateline


def _dateline_year(lang: str, text: str) -> int | None:
    """The year of a dateline that gives none ("Kuala Lumpur, Dec 11 (Reuters) -"), as far as the text bounds it.

    A clause about what has happened (history, "relations date back to 1960", or a fact, "trade reached
    $25bn in 2022") was written after its year: a lower bound. A clause about a plan or a coming event
    ("the next session will be held in 2026", "предстоящий ... в 2026 году") was written by its year: an
    upper bound. The year is where the bounds meet; a text that names only coming events gives the earliest
    of them (an event announced as coming is reported in its own year more than in any other); a text that
    names only past years, or bounds that leave a range, give none. The next event of a series (the profile's
    ``next_cues``: "Следниот самит ќе се одржи во 2025", "следующее заседание ... в 2026 году") comes after
    the text's year: it bounds it by the year before, and alone gives none.
    """
    from kg.lang import language
    from kg.text import split_sentences, tokenize

    planned = language(lang).meetings.get("planned")
    future = _future_cues(lang)
    following = _future_cues(lang, "next_cues")
    past: list[int] = []
    coming: list[int] = []
    later: list[int] = []  # the next of a series ("the next summit ... in 2025"): after the text's own year
    for sentence in split_sentences(text):
        if not years_in(sentence.text):
            continue
        for clause in re.finditer(r"[^,،;؛]+", sentence.text):
            years = years_in(clause.group())
            if not years:
                continue
            start, end = sentence.start + clause.start(), sentence.start + clause.end()
            tokens = tokenize(text, start, end)
            if following is not None and following.find(tokens, text):
                later.extend(years)
                continue
            ahead = any(lexicon is not None and lexicon.find(tokens, text) for lexicon in (planned, future))
            (coming if ahead else past).extend(years)
    bounds = coming + [year - 1 for year in later]
    if not bounds:
        return None
    upper = min(bounds)
    if upper > _dt.date.today().year or (past and max(past) != upper) or (not past and upper not in coming):
        return None
    return upper


@cache
def _dateline_links(lang: str) -> re.Pattern[str] | None:
    words = "|".join(map(re.escape, profile(lang).get("dateline_links") or []))
    return re.compile(r"\s*[^\W\d_][\w\s\-]{1,30}?\s+(?:" + words + r")\s+") if words else None


@cache
def _future_cues(lang: str, key: str = "future_cues") -> Lexicon | None:
    cues = profile(lang).get(key) or []
    return Lexicon.build(lang, {"future": cues}) if cues else None


def _full(mentions: list[DateMention]) -> list[PartialDate]:
    out = []
    for m in mentions:
        if m.year and m.month and m.day and not m.is_relative:
            resolved = m.resolve(None)
            if resolved:
                out.append(resolved)
    return out


def _title_date(lang: str, title: str) -> PartialDate | None:
    """A title ending in a date ("... - 11 АВГУСТ 2023") gives the text's own date."""
    mentions = find_dates(lang, title)
    if mentions and not title[mentions[-1].end :].strip(" -–—|,.)("):
        full = _full(mentions[-1:])
        return full[0] if full else None
    return None


def _date_line(lang: str, line: str) -> PartialDate | None:
    """A short line that states a full date ("date 2024-06-26", "السبت 26/أغسطس/2023 - 05:05 م")."""
    if len(line) > 80:
        return None
    mentions = find_dates(lang, line)
    full = _full(mentions)
    if not full:
        return None
    rest = line
    for m in mentions:
        rest = rest.replace(m.text, " ")
    words = [w for w in re.findall(r"[^\W\d_]+", rest) if len(w) > 1]
    date_words = {fold(w) for w in profile(lang).get("date_words", [])}
    informative = [w for w in words if fold(w) not in date_words]
    if len(informative) <= 4:
        return full[0]
    return None


def _dateline(
    lang: str, text: str, body_start: int, published: PartialDate | None = None
) -> PartialDate | None:
    """A news dateline at the start of a paragraph: "Астана. 12 марта. AGENCY – ...",
    "АНТАЛЬЯ (Турция), 1 марта 2024. /ТАСС/.", and, with a year only, a place and a date joined by one of the
    profile's ``dateline_links`` ("مسقط في 12 فبراير 2024 /العُمانية/").

    A dateline without a year takes the publication date's year (the latest such day not after it), else
    the year the text's past and coming events bound it to (:func:`_dateline_year`), else none.
    """
    links = _dateline_links(lang)
    for paragraph in re.finditer(r"[^\n]+", text[body_start : body_start + 3000]):
        line = paragraph.group()
        head = re.match(r"\s*([^\W\d_][\w\s\-]{1,30}?(?:\s*\([^()\n]{1,30}\))?)[.,]\s+", line)
        linked = head is None and links is not None
        if linked:
            head = links.match(line)
        if not head:
            continue
        mentions = find_dates(lang, line, head.end(), min(len(line), head.end() + 40))
        if not mentions or mentions[0].start != head.end() or mentions[0].month is None:
            continue
        first = mentions[0]
        if first.day is None or (linked and first.year is None):
            continue  # "أبوظبي في 5 فبراير": a place and a date joined by a word count only with a year
        if first.year:
            return first.resolve(None)
        if published is not None and published.day is not None:
            return first.resolve(published)
        year = _dateline_year(lang, text[body_start:])
        return first.resolve(PartialDate(year, 12, 31)) if year else None
    return None
