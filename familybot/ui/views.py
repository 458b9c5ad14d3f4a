"""Groups' persistent buttons as drawn (consent, approval, list pages) and their texts.

State lives in the custom_id, so they work after a restart; presses are answered by the
items in cogs/groups_components.py, which use the templates defined here."""

from __future__ import annotations

from typing import Any

import discord

from familybot.i18n import _, pgettext
from familybot.models import Group, JoinMode
from familybot.models.groups import Decision, GroupListPage, JoinOutcome, JoinResult
from familybot.ui.components import PostedView
from familybot.ui.embeds import guidelines_embed
from familybot.ui.text import clip, defuse, user_mention


def join_result_text(outcome: JoinOutcome) -> str:
    name = clip(defuse(outcome.group.name), 100)
    if outcome.result is JoinResult.SEATED:
        text = _("Thank you. You're now a member of **{group}**. Welcome! 💙").format(group=name)
        if outcome.group.channel_id:
            text += " " + _("Your group's private channel is {channel}.").format(
                channel=f"<#{outcome.group.channel_id}>"
            )
        return text
    if outcome.result is JoinResult.WAITLISTED:
        return _(
            "Thank you. **{group}** is full right now, so you're on the waitlist: number "
            "{position} in line. I'll message you as soon as a seat opens."
        ).format(group=name, position=outcome.position)
    if outcome.reviewed or outcome.group.join_mode is JoinMode.OPEN:
        return _(
            "Thank you. Your request to join **{group}** is with the facilitators now. "
            "I'll message you when they've looked at it."
        ).format(group=name)
    return _(
        "Thank you. **{group}** asks facilitators to welcome each new member, so your request "
        "is with them now. I'll message you when they've looked at it."
    ).format(group=name)


CONSENT_TEMPLATE = r"fb:consent:(?P<group>\d+):(?P<version>\d+)"
APPROVAL_TEMPLATE = r"fb:approval:(?P<group>\d+):(?P<user>\d+):(?P<action>approve|deny)"
GROUP_LIST_TEMPLATE = r"fb:grouplist:(?P<way>prev|next):(?P<page>\d+)"


def consent_button(group_id: int, version: int) -> discord.ui.Button[Any]:
    """“I agree” under a group's guidelines; consent is recorded only when pressed."""
    return discord.ui.Button(
        label=pgettext("button", "I agree"),
        style=discord.ButtonStyle.success,
        custom_id=f"fb:consent:{group_id}:{version}",
    )


def approval_button(group_id: int, user_id: int, action: str) -> discord.ui.Button[Any]:
    """Approve / Deny on a join request in the facilitators' alerts channel."""
    approve = action == "approve"
    return discord.ui.Button(
        label=pgettext("button", "Approve") if approve else pgettext("button", "Deny"),
        style=discord.ButtonStyle.success if approve else discord.ButtonStyle.secondary,
        custom_id=f"fb:approval:{group_id}:{user_id}:{action}",
    )


def group_list_button(way: str, page: int, *, disabled: bool = False) -> discord.ui.Button[Any]:
    """Previous / Next under a page of /group list; the page to show is in the custom_id,
    the server is the one it is pressed in (nobody sees another server's groups)."""
    return discord.ui.Button(
        label=pgettext("button", "Previous") if way == "prev" else pgettext("button", "Next"),
        style=discord.ButtonStyle.secondary,
        custom_id=f"fb:grouplist:{way}:{page}",
        disabled=disabled,
    )


def decision_text(decision: Decision, user_id: int, actor_id: int) -> str:
    """What the join request in the alerts channel says once a facilitator has answered."""
    name = clip(defuse(decision.group.name), 100)
    who = user_mention(user_id)
    actor = user_mention(actor_id)
    if decision.already_decided:
        return _("This request from {member} for **{group}** was already handled.").format(
            member=who, group=name
        )
    if decision.outcome is None:
        return _(
            "Request from {member} to join **{group}**: declined by {facilitator}. They were "
            "told kindly by DM."
        ).format(member=who, group=name, facilitator=actor)
    if decision.outcome.result is JoinResult.SEATED:
        return _(
            "Request from {member} to join **{group}**: approved by {facilitator}. They're now "
            "a member."
        ).format(member=who, group=name, facilitator=actor)
    return _(
        "Request from {member} to join **{group}**: approved by {facilitator}. The group is "
        "full, so they're number {position} on the waitlist."
    ).format(member=who, group=name, facilitator=actor, position=decision.outcome.position)


def group_list_view(page: GroupListPage) -> discord.ui.View | None:
    """Previous, "Page n of m", Next under a page of /group list; None for a single page."""
    if page.pages <= 1:
        return None
    view = PostedView()
    first, last = page.page == 0, page.page == page.pages - 1
    view.add_item(group_list_button("prev", max(0, page.page - 1), disabled=first))
    view.add_item(
        discord.ui.Button(
            label=pgettext("button", "Page {page} of {pages}").format(
                page=page.page + 1, pages=page.pages
            ),
            style=discord.ButtonStyle.secondary,
            custom_id="fb:grouplist:at",
            disabled=True,
        )
    )
    view.add_item(group_list_button("next", min(page.pages - 1, page.page + 1), disabled=last))
    return view


def consent_view(group_id: int, version: int) -> discord.ui.View:
    view = PostedView()
    view.add_item(consent_button(group_id, version))
    return view


def join_prompt(group: Group) -> tuple[discord.Embed, discord.ui.View]:
    """The group's guidelines with “I agree”: how `/group join` and the start-here panel's
    group menu both start a join (after GroupsService.prepare_join)."""
    return (
        guidelines_embed(group.name, group.guidelines, group.guidelines_version),
        consent_view(group.id, group.guidelines_version),
    )


def approval_view(group_id: int, user_id: int) -> discord.ui.View:
    view = PostedView()
    view.add_item(approval_button(group_id, user_id, "approve"))
    view.add_item(approval_button(group_id, user_id, "deny"))
    return view
