"""Windows releases by version and build, and the fixes the project knows (``windows.yaml``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from evtxmpio.catalog._load import fail, load


@dataclass(frozen=True, slots=True)
class WindowsRelease:
    """One Windows release as the System log names it: version and build.

    Attributes:
        version: ``major.minor`` without leading zeros (``6.1``).
        build: the build number (``7601``).
        name: ``Windows Server 2008 R2 SP1``; ``Windows 6.4 build 9841`` for a release the
            catalogue does not know.
        known: whether the catalogue knows the release.
    """

    version: str
    build: int
    name: str
    known: bool = True

    @property
    def key(self) -> str:
        """``6.1.7601``: how the catalogue's fix tables name the release."""
        return f"{self.version}.{self.build}"


@dataclass(frozen=True, slots=True)
class Fix:
    """A hotfix: the component it replaces and the first fixed file version per release.

    Attributes:
        kb: ``KB2406705``.
        title: what it fixes.
        component: the file it replaces (``mpio.sys``).
        fixed_versions: release key (``6.1.7601``) -> first fixed file version, in catalogue
            order; the fix applies to exactly these releases.
    """

    kb: str
    title: str
    component: str
    fixed_versions: Mapping[str, str]

    def applies_to(self, release: WindowsRelease) -> bool:
        """Whether the fix exists for ``release`` (later releases ship the correction)."""
        return release.key in self.fixed_versions

    def fixed_version(self, release: WindowsRelease) -> str | None:
        """The first fixed file version for ``release``, or ``None`` if the fix does not apply."""
        return self.fixed_versions.get(release.key)

    def releases(self) -> tuple[WindowsRelease, ...]:
        """The releases the fix applies to, in catalogue order."""
        return tuple(r for r in windows_releases() if self.applies_to(r))


def normalize_version(text: str) -> str | None:
    """``6.01.`` (EventLog 6009), ``6.1`` or ``06.01`` -> ``6.1``; ``None`` if not a version."""
    match = re.fullmatch(r"\s*(\d{1,3})\.(\d{1,3})\.?\s*", text)
    return None if match is None else f"{int(match.group(1))}.{int(match.group(2))}"


@cache
def windows_releases() -> tuple[WindowsRelease, ...]:
    """Every release the catalogue names, oldest first."""
    releases = []
    for entry in load("windows")["releases"]:
        try:
            releases.append(WindowsRelease(str(entry["version"]), int(entry["build"]),
                                           str(entry["name"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise fail("windows", f"release {entry!r}: needs version, build, name") from exc
    return tuple(releases)


def windows_release(version: str, build: int) -> WindowsRelease | None:
    """The release of ``version`` (``6.1`` or ``6.01.``) and ``build``.

    ``None`` when ``version`` is not a version; an unknown release gets ``known=False`` and a
    generic name.
    """
    normalized = normalize_version(version)
    if normalized is None or build < 0:
        return None
    for release in windows_releases():
        if release.version == normalized and release.build == build:
            return release
    return WindowsRelease(normalized, build, f"Windows {normalized} build {build}", known=False)


@cache
def fix(kb: str = "KB2406705") -> Fix:
    """The fix ``kb`` (``KB2406705``, case-insensitive; spaces ignored).

    Raises:
        KeyError: the catalogue does not know ``kb``.
    """
    fixes = {k.upper(): v for k, v in load("windows")["fixes"].items()}
    entry = fixes[kb.replace(" ", "").upper()]
    known = {release.key for release in windows_releases()}
    versions = {str(k): str(v) for k, v in entry["fixed_versions"].items()}
    unknown = sorted(set(versions) - known)
    if unknown:
        raise fail("windows", f"{kb}: fixed_versions name unknown releases {unknown}")
    return Fix(kb.replace(" ", "").upper(), str(entry["title"]), str(entry["component"]),
               MappingProxyType(versions))
