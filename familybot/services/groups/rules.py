"""The rules of a group: limits on names and texts, seats and facilitators, the default
guidelines, and how long a denied request waits."""

from __future__ import annotations

from datetime import timedelta

from familybot.errors import UserFacingError
from familybot.i18n import _, lazy_gettext
from familybot.models import Group

NAME_MAX = 50
LIST_PAGE_SIZE = 10  # groups per page of /group list (an embed holds them easily)
DESCRIPTION_MAX = 1000
FOCUS_MAX = 100
GUIDELINES_MAX = 3000
# Discord allows at most 100 permission overwrites on a channel. Each member and each of
# the group's facilitators takes one on the group's channel (that is how access is given:
# never a role, which would show on their profile); room is kept for @everyone's, the bot's,
# the facilitator role's and one an admin may add.
CHANNEL_OVERWRITES_MAX = 100
RESERVED_OVERWRITES = 4
FACILITATORS_MAX = 10
CAPACITY_MAX = CHANNEL_OVERWRITES_MAX - RESERVED_OVERWRITES - FACILITATORS_MAX  # 86 seats


def capacity_too_high(*, zero_allowed: bool) -> str:
    """Refusal of a capacity over CAPACITY_MAX; `/group edit` also says what 0 means."""
    if zero_allowed:
        text = _(
            "A group can have at most {max} members. Discord lets at most 100 people and roles "
            "have their own access to a channel, and I keep some of that room for the group's "
            "facilitators and for me. Please choose {max} or fewer (0 means as many as fit)."
        )
    else:
        text = _(
            "A group can have at most {max} members. Discord lets at most 100 people and roles "
            "have their own access to a channel, and I keep some of that room for the group's "
            "facilitators and for me. Please choose {max} or fewer."
        )
    return text.format(max=CAPACITY_MAX)


# After a denied request, the next one may come this long after it at the earliest.
REQUEST_WAIT = timedelta(days=7)
# The same words whether a button names another server's group or one that is gone: a
# forged id learns nothing.
GROUP_NOT_HERE = lazy_gettext(
    "I couldn't find that group on this server, so nothing was changed. "
    "`/group list` shows the groups here."
)

# Stored with a new group as its English msgid (the database holds one text for every
# reader); shown_guidelines() gives each reader this default in their own language.
DEFAULT_GUIDELINES = lazy_gettext(
    "**What is shared here stays here.** Please don't repeat anything another family "
    "shares, and don't share screenshots or names outside this group.\n"
    "**Speak from your own experience.** Listen without judging; everyone's path is different.\n"
    "**This is peer support, not medical advice.** For treatment questions, talk with your "
    "loved one's care team.\n"
    "**Facilitators are not a crisis service.** If anyone is in danger, call your local "
    "emergency number. `/crisis` shows crisis lines any time.\n"
    "**You can leave at any time** with `/group leave`."
)


def seat_limit(group: Group) -> int:
    """How many can be seated: the group's capacity, never more than fit on its channel
    ("no limit" means as many as fit)."""
    if group.capacity is None:
        return CAPACITY_MAX
    return min(group.capacity, CAPACITY_MAX)


def shown_guidelines(group: Group) -> str:
    """The group's guidelines as this reader sees them: the default one in their language."""
    if group.guidelines == DEFAULT_GUIDELINES.message:
        return str(DEFAULT_GUIDELINES)
    return group.guidelines


def _field_messages(what: str) -> tuple[str, str]:
    """(empty, too long) for one field, whole sentences (Spanish genders differ per field)."""
    messages = {
        "name": (
            _("The name can't be empty. Please try again with a name."),
            _("The name is {length} characters long; please keep it to {limit} or fewer."),
        ),
        "description": (
            _("The description can't be empty. Please try again with a description."),
            _("The description is {length} characters long; please keep it to {limit} or fewer."),
        ),
        "focus": (
            _("The focus can't be empty. Please try again with a focus."),
            _("The focus is {length} characters long; please keep it to {limit} or fewer."),
        ),
        "guidelines": (
            _("The guidelines can't be empty. Please try again with guidelines."),
            _("The guidelines are {length} characters long; please keep them to {limit} or fewer."),
        ),
    }
    return messages[what]


def clean_field(text: str, limit: int, what: str, *, minimum: int = 1) -> str:
    value = " ".join(text.split()) if what == "name" else text.strip()
    empty, too_long = _field_messages(what)
    if len(value) < minimum:
        raise UserFacingError(empty)
    if len(value) > limit:
        raise UserFacingError(too_long.format(length=len(value), limit=limit))
    return value
