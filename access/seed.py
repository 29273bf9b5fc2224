"""Reference data every installation needs: the offence table and the global role groups.

Called from the ``seed`` migration with the migration's app registry, and idempotent, so it can be
re-attached to a regenerated migration or run again after an edit here.
"""

from datetime import date
from typing import Any

from access.choices import GlobalRole

SEXUAL_CRIMES_ACT_KO = "성폭력범죄의 처벌 등에 관한 특례법"
SEXUAL_CRIMES_ACT_EN = "Act on Special Cases Concerning the Punishment of Sexual Crimes"
CHILD_PROTECTION_ACT_KO = "아동·청소년의 성보호에 관한 법률"
CHILD_PROTECTION_ACT_EN = "Act on the Protection of Children and Youth against Sex Offences"

# (code, act, article, Korean label, English label, minor victim, in force since)
OFFENCES: list[tuple[str, str, str, str, str, bool, date | None]] = [
    (
        "sc-14-film",
        "sc",
        "14(1)",
        "카메라 등을 이용한 촬영 (의사에 반하는 촬영)",
        "filming another's body without consent",
        False,
        None,
    ),
    (
        "sc-14-distribute",
        "sc",
        "14(2)",
        "불법촬영물 반포·판매·임대·제공·전시·상영",
        "distributing, selling, providing or exhibiting illegally filmed material",
        False,
        None,
    ),
    (
        "sc-14-possess",
        "sc",
        "14(4)",
        "불법촬영물 소지·구입·저장·시청",
        "possessing, purchasing, storing or viewing illegally filmed material",
        False,
        None,
    ),
    (
        "sc-14-2-create",
        "sc",
        "14-2(1)",
        "허위영상물 편집·합성·가공 (딥페이크 제작)",
        "creating false video (deepfake): editing, synthesising or processing against the person's will",
        False,
        None,
    ),
    (
        "sc-14-2-distribute",
        "sc",
        "14-2(2)",
        "허위영상물 반포·판매·임대·제공·전시·상영",
        "distributing, selling, providing or exhibiting false video (deepfake) material",
        False,
        None,
    ),
    (
        "sc-14-2-profit",
        "sc",
        "14-2(3)",
        "영리 목적 정보통신망을 이용한 허위영상물 반포",
        "distributing false video (deepfake) material through a network for profit",
        False,
        None,
    ),
    (
        "sc-14-2-possess",
        "sc",
        "14-2(4)",
        "허위영상물 소지·구입·저장·시청",
        "possessing, purchasing, storing or viewing false video (deepfake) material",
        False,
        date(2024, 10, 16),
    ),
    (
        "sc-14-3-threat",
        "sc",
        "14-3(1)",
        "촬영물·허위영상물 등을 이용한 협박",
        "threatening a person with filmed or false video (deepfake) material",
        False,
        None,
    ),
    (
        "sc-14-3-coerce",
        "sc",
        "14-3(2)",
        "촬영물·허위영상물 등을 이용한 강요",
        "coercing a person with filmed or false video (deepfake) material",
        False,
        None,
    ),
    (
        "cy-11-produce",
        "cy",
        "11(1)",
        "아동·청소년성착취물 제작·수입·수출",
        "producing, importing or exporting sexual exploitation material of a child or youth",
        True,
        None,
    ),
    (
        "cy-11-distribute",
        "cy",
        "11(3)",
        "아동·청소년성착취물 배포·제공·전시·상영",
        "distributing, providing or exhibiting sexual exploitation material of a child or youth",
        True,
        None,
    ),
    (
        "cy-11-possess",
        "cy",
        "11(5)",
        "아동·청소년성착취물 구입·소지·시청",
        "purchasing, possessing or viewing sexual exploitation material of a child or youth",
        True,
        None,
    ),
]

ACTS = {
    "sc": (SEXUAL_CRIMES_ACT_KO, SEXUAL_CRIMES_ACT_EN),
    "cy": (CHILD_PROTECTION_ACT_KO, CHILD_PROTECTION_ACT_EN),
}

ROLE_GROUPS = list(GlobalRole.values)


def seed_offences(apps: Any, schema_editor: Any = None) -> None:
    """Create or refresh the offence table (by code; cases keep their references)."""
    offence_model = apps.get_model("access", "Offence")
    for order, (code, act, article, label_ko, label_en, minor, since) in enumerate(OFFENCES):
        statute_ko, statute_en = ACTS[act]
        offence_model.objects.update_or_create(
            code=code,
            defaults={
                "statute_ko": statute_ko,
                "statute_en": statute_en,
                "article": article,
                "label_ko": label_ko,
                "label_en": label_en,
                "minor_victim": minor,
                "since": since,
                "sort_order": (order + 1) * 10,
            },
        )


def seed_role_groups(apps: Any, schema_editor: Any = None) -> None:
    """One Django group per global role (DESIGN.md: users and roles)."""
    group_model = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        group_model.objects.get_or_create(name=name)


def seed_all(apps: Any, schema_editor: Any = None) -> None:
    seed_offences(apps, schema_editor)
    seed_role_groups(apps, schema_editor)
