"""Error messages of log samples, masked so that samples saying the same thing group together.

Pure functions, no Django: `message_of(details)` is the text a sample's group is named by
(numbers, hex ids, host names, file paths and URLs, dataset names, timestamps and CMS site
names replaced by placeholders), `message_key(exit_code, message)` its short stable key, and
`group_samples` the groups of one fetched sample set. Sites are masked too ("Exit code 8001 at
T2_IT_Pisa" is one message whatever the site): a group counts its sites and its samples name
them. Step and module names (`cmsRun1`, `PoolSource`) stay.
"""

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

NUM, HEX, HOST, PATH, DATASET, TIME, SITE = (
    "<num>",
    "<hex>",
    "<host>",
    "<path>",
    "<dataset>",
    "<time>",
    "<site>",
)
PLACEHOLDERS = (NUM, HEX, HOST, PATH, DATASET, TIME, SITE)
# What a group shows and keys on: long logs differ somewhere, their start says what failed.
MESSAGE_CHARS = 500
SAMPLES_PER_GROUP = 3

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
_ZONE = r"(?:\s?(?:Z|UTC|GMT|CES?T|[+-]\d{2}:?\d{2}))?"
# Top-level domains seen in CMS host names; a fixed list, so "JobReport.x.pkl" or
# "os.path" are not taken for hosts.
_TLDS = (
    "ch|gov|edu|org|net|com|it|de|fr|uk|es|ru|kr|in|br|be|pt|pl|cn|tw|ee|hu|at|fi|ua|pk|mx|gr|ir"
    "|lt|th|nl|us|eu|io|local"
)


def _hex_id(match: re.Match) -> str:
    """A run of hex digits is an id when it mixes digits and letters (12345678 is a number,
    "deadbeef" perhaps a word)."""
    text = match.group(0)
    if not text.isdigit() and any(c.isdigit() for c in text):
        return HEX
    return text


# (pattern, placeholder), applied in this order: URLs and paths first (they hold hosts,
# numbers and hex names), timestamps before numbers (a time is several numbers).
_RULES: list[tuple[re.Pattern, str | Callable[[re.Match], str]]] = [
    # PFNs and other URLs: root://host//store/..., srm://host:8443/srm/managerv2?SFN=/..., davs://, https://
    (re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]{},;]*"), PATH),
    (re.compile(r"\bfile:[^\s'\"<>()\[\]{},;]+"), PATH),
    # A dataset: /Primary/Processed-v1/TIER (the tier in capitals: AODSIM, GEN-SIM, MINIAOD, RAW, USER)
    (re.compile(r"(?<![\w./-])/[\w-]+/[\w.-]+/[A-Z][A-Z0-9-]*(?![\w./-])"), DATASET),
    # LFNs and local paths: /store/..., /eos/cms/..., /srv/job/WMTaskSpace/... (two parts at least)
    (re.compile(r"(?<![\w.:/-])/(?:[\w.+~@%=-]+/)+[\w.+~@%=-]*"), PATH),
    # Timestamps: 2024-06-12T10:15:03.512Z, 2024-06-12 10:15:03,512, 2024/06/12,
    # Thu Jun 13 04:20:11 UTC 2024, 13-Jun-2024 04:20:11, Jun 13 04:20:11, then a bare 04:20:11
    (re.compile(rf"\b\d{{4}}[-/]\d{{2}}[-/]\d{{2}}(?:[T ]{_CLOCK})?{_ZONE}"), TIME),
    (
        re.compile(
            rf"\b(?=[A-Z][a-z]{{2}})(?:{_DAY},?\s+)?{_MONTH}\s+\d{{1,2}},?\s+(?:{_CLOCK}{_ZONE}(?:\s+\d{{4}})?|\d{{4}})"
        ),
        TIME,
    ),
    (re.compile(rf"\b\d{{1,2}}[-\s]{_MONTH}[-\s]\d{{4}}(?:[\s:]{_CLOCK})?{_ZONE}"), TIME),
    (re.compile(rf"(?<![\w:.]){_CLOCK}(?![\w:])"), TIME),
    # Hex ids: GUIDs (file names, job ids), 0x addresses, long hex strings with digits and letters
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), HEX),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), HEX),
    (re.compile(r"\b[0-9a-fA-F]{8,}\b"), _hex_id),
    # Hosts: IPv4 addresses and dotted names under a known domain, with their port
    (re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.])"), HOST),
    (
        re.compile(
            rf"(?<![\w.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLDS})(?::\d+)?(?![\w-])"
        ),
        HOST,
    ),
    # CMS sites and their storage names: T2_CH_CERN, T1_US_FNAL_Disk, T0_CH_CERN_MSS
    (re.compile(r"\bT[0-3]_[A-Z]{2}_\w+"), SITE),
    # Numbers not glued to a word before them (cmsRun1, Run2024F stay); 8500MB is <num>MB
    (re.compile(r"(?<![\w<.])[-+]?\d+(?:[.,]\d+)*"), NUM),
]
# "occurred while [0] Processing Event run: 1 lumi: 7 ... [9] Reading branch ...": cmsRun's
# context lines say where in the event loop it failed, which varies between jobs of one cause.
_CONTEXT_LINE = re.compile(r"^\s*\[\d+\] .*$", re.MULTILINE)
# The same placeholder repeated (a list of files, of hosts): one placeholder, whatever the length.
_REPEATS = re.compile(r"(<(?:num|hex|host|path|dataset|time|site)>)(?:[\s,;]+\1)+")
_SPACES = re.compile(r"\s+")


def mask(text: str) -> str:
    """`text` with variable parts replaced by placeholders and whitespace runs by one space."""
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    text = _REPEATS.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


def message_of(details: str) -> str:
    """The masked message of a log sample: cmsRun's numbered context lines dropped, the rest
    masked and cut at MESSAGE_CHARS characters (ending in "…" when cut)."""
    masked = mask(_CONTEXT_LINE.sub("", details))
    if len(masked) > MESSAGE_CHARS:
        return masked[: MESSAGE_CHARS - 1] + "…"
    return masked


def message_key(exit_code: int | None, message: str) -> str:
    """A short stable key of (exit code, masked message): 16 hex characters."""
    text = f"{exit_code}\n{message}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass
class SampleGroup:
    """Samples of one fetched set sharing (exit code, masked message); `samples` are their
    positions in the input and `sites` their sites, first seen first."""

    exit_code: int | None
    message: str
    key: str
    samples: list[int] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)

    def shown(self) -> list[int]:
        """The positions of the samples a page shows: up to SAMPLES_PER_GROUP, from as many
        sites as there are, first seen first."""
        chosen: list[int] = []
        seen_sites: set[str] = set()
        for position, site in zip(self.samples, self.sites, strict=True):
            if site not in seen_sites and len(chosen) < SAMPLES_PER_GROUP:
                chosen.append(position)
                seen_sites.add(site)
        for position in self.samples:
            if len(chosen) == SAMPLES_PER_GROUP:
                break
            if position not in chosen:
                chosen.append(position)
        return sorted(chosen)


def group_samples(samples: Iterable[tuple[int | None, str, str]]) -> list[SampleGroup]:
    """Group (exit code, site, details) triples by (exit code, masked message). The caller
    gives the sample's own exit code (a log-archive 99999 inside an 8001 cell is a 99999
    message). Groups come biggest first, then by exit code and message."""
    groups: dict[str, SampleGroup] = {}
    for position, (exit_code, site, details) in enumerate(samples):
        message = message_of(details)
        key = message_key(exit_code, message)
        group = groups.get(key)
        if group is None:
            group = groups[key] = SampleGroup(exit_code, message, key)
        group.samples.append(position)
        group.sites.append(site)
    return sorted(groups.values(), key=lambda g: (-len(g.samples), g.exit_code or 0, g.message))
