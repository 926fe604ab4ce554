"""CMS site names from the storage names the ACDC server (and the original tool's
actions) carry. Pure functions, no Django: the rule is the original tool's.

The ACDC server lists where failed files sit: storage names (PNNs such as
`T1_US_FNAL_Disk`, `T2_CH_CERN_ECHO_Disk`) or, in old collections, storage host names
(`cmssrm.fnal.gov`). Unified runs work at compute sites (`T1_US_FNAL`), so a location
becomes a site by dropping tape/export endpoints and Tier-0, stripping the disk suffix,
and keeping only sites we know.
"""

import re
from collections.abc import Iterable, Mapping

# A CMS site or storage name: T<tier>_<country>_<name>[_<suffix>...].
_CMS_NAME = re.compile(r"^T[0-9]_[A-Z]{2}_[A-Za-z0-9_-]+$")
_DROPPED_SUFFIXES = ("_MSS", "_Export", "_Buffer")
_STRIPPED_SUFFIXES = ("_ECHO_Disk", "_Disk")


def site_of_location(location: str, storage_hosts: Mapping[str, str] | None = None) -> str | None:
    """The compute site of one storage location, or None when work cannot run there.

    Tier-0 and tape/export endpoints give None; `_Disk` / `_ECHO_Disk` are stripped; a
    storage host name (`cmssrm.fnal.gov`) maps only through `storage_hosts`."""
    location = location.strip()
    if not location:
        return None
    if not _CMS_NAME.match(location):
        # Not a PNN: an old collection's storage host, known only through the table.
        return (storage_hosts or {}).get(location.lower()) or (storage_hosts or {}).get(location)
    if location.startswith("T0_") or location.endswith(_DROPPED_SUFFIXES):
        return None
    for suffix in _STRIPPED_SUFFIXES:
        if location.endswith(suffix):
            return location[: -len(suffix)]
    return location


def sites_of_locations(
    locations: Iterable[str],
    *,
    known_sites: Iterable[str],
    storage_hosts: Mapping[str, str] | None = None,
) -> list[str]:
    """The sorted compute sites of `locations` that are in `known_sites` (the sites the tool
    has a status for or has seen errors at); anything else is dropped."""
    known = set(known_sites)
    found = {site_of_location(location, storage_hosts) for location in locations if isinstance(location, str)}
    return sorted(site for site in found if site and site in known)
