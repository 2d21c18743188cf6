"""What a message may call a member: the family name, for a salutation such as 张女士 or Ms Zhang.

A Chinese name is written family name first, in one or two characters (欧阳, 司马...); a name in
Latin letters is taken as given name(s) then family name, as members type it on a form. Nothing
else of the name leaves members for a salutation.
"""

# The two-character family names common enough to meet at a supermarket desk; any other name in
# Chinese characters has a one-character family name.
COMPOUND_FAMILY_NAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "申屠", "太史", "闻人", "澹台", "公冶",
    "呼延", "赫连", "百里", "东郭", "万俟", "钟离", "濮阳", "单于", "拓跋", "第五",
})


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def family_name(name: str) -> str | None:
    """The family name within `name`; None when there is nothing to call the member by (an
    erased member's name, or one that is blank)."""
    name = name.strip()
    if not name:
        return None
    if _is_cjk(name[0]):
        compact = name.replace(" ", "").replace("·", "")
        return compact[:2] if compact[:2] in COMPOUND_FAMILY_NAMES and len(compact) > 2 else compact[0]
    return name.split()[-1]
