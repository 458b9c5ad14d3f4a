"""What the safety watch says: to the person (warm, private) and to facilitators (ids only).

Written with safe-messaging guidance in mind: no judgement, no diagnosis, no talk of means;
say that help exists and how to reach it now. The alert never carries the message's text.
"""

from __future__ import annotations

import discord

from familybot import i18n
from familybot.i18n import _, pgettext
from familybot.models.safety import CrisisDM, SafetyAlert
from familybot.ui.crisis_texts import translated
from familybot.ui.help_embeds import crisis_embed
from familybot.ui.text import channel_mention, clip, defuse, user_mention

ALERT_COLOUR = 0xC0392B


def crisis_dm_text(dm: CrisisDM) -> str:
    """The watch's words to someone who may be at risk, in the DM's language (their /my
    language, else the server's: cogs/safety.py sets it, as for the crisis lines embed
    under it). Only the watch's phrase matching is English-only (README "Languages")."""
    where = clip(defuse(dm.guild_name), 100)
    if dm.facilitators_told:
        return _(
            "Hi. Something you wrote in **{name}** made me want to check in with you, just "
            "between us. It sounds like things may be really hard right now, for you or for "
            "someone you love.\n\n"
            "**If you or someone else is in danger right now, please call your local emergency "
            "number.**\n\n"
            "You don't have to carry this alone. The lines below are free and confidential, and "
            "the people there are ready to listen, whatever is going on.\n\n"
            "I've also let the facilitators know privately, so someone may gently check in with "
            "you. Your message is still there, nobody else can see this one, and you can find "
            "these lines any time with `/crisis`. 💙"
        ).format(name=where)
    return _(
        "Hi. Something you wrote in **{name}** made me want to check in with you, just "
        "between us. It sounds like things may be really hard right now, for you or for "
        "someone you love.\n\n"
        "**If you or someone else is in danger right now, please call your local emergency "
        "number.**\n\n"
        "You don't have to carry this alone. The lines below are free and confidential, and "
        "the people there are ready to listen, whatever is going on.\n\n"
        "Your message is still there, nobody else can see this one, and you can find "
        "these lines any time with `/crisis`. 💙"
    ).format(name=where)


def crisis_dm_embed(dm: CrisisDM) -> discord.Embed:
    return crisis_embed([translated(line) for line in dm.lines], dm.region)


def safety_alert_embed(alert: SafetyAlert) -> discord.Embed:
    """For the facilitators' alerts channel: in the server's language."""
    with i18n.using(i18n.for_guild(alert.guild_id)):
        return _safety_alert_embed(alert)


def _safety_alert_embed(alert: SafetyAlert) -> discord.Embed:
    dm = (
        _("I sent them the crisis lines privately.")
        if alert.dm_delivered
        else _(
            "**I couldn't send them the crisis lines**: their direct messages are closed. "
            "Nothing was posted in the channel."
        )
    )
    description = _(
        "A message from {member} in {channel} matched crisis language. "
        "[Jump to the message]({link})\n\n"
        "{dm}\n\n"
        "FamilyBot didn't reply in the channel or act on the message. A gentle, private "
        "check-in from a facilitator may help. This alert isn't a diagnosis; the person "
        "may be talking about someone else or about the past."
    ).format(
        member=user_mention(alert.author_id),
        channel=channel_mention(alert.channel_id),
        link=alert.jump_url,
        dm=dm,
    )
    return discord.Embed(
        title=pgettext("embed-title", "Safety watch: someone may need support"),
        description=description,
        colour=ALERT_COLOUR,
    )


# --- /setup safety-watch and /setup automod replies ----------------------------------------
def needs_intent(feature: str) -> str:
    """``feature``: "safety-watch" or "automod"."""
    how = _(
        "Whoever hosts FamilyBot can turn it on: in the Discord Developer Portal, open the "
        "application, go to **Bot** and switch on **Message Content Intent**; then set "
        "`MESSAGE_CONTENT_INTENT=true` in the bot's `.env` and restart it. Nothing was changed."
    )
    if feature == "automod":
        first = _(
            "Automod reads messages in group channels, so it needs Discord's **Message Content "
            "intent**, which is off for this bot."
        )
    else:
        first = _(
            "The safety watch reads messages in group channels, so it needs Discord's **Message "
            "Content intent**, which is off for this bot."
        )
    return f"{first} {how}"


def safety_watch_reply(on: bool, has_alerts_channel: bool) -> str:
    if not on:
        return _("Done. The safety watch is off.")
    text = _(
        "Done. The safety watch is on. When a message in a group channel sounds like someone "
        "may be in crisis, I'll privately send its author the crisis lines and let the "
        "facilitators know in the alerts channel, with a link. I never reply in the channel, "
        "remove the message or keep what it said."
    )
    if not has_alerts_channel:
        text += "\n" + _(
            "Please set an alerts channel with `/setup alerts` so facilitators see alerts."
        )
    return text


def automod_reply(
    on: bool, threshold: int, can_manage_messages: bool, has_modlog_channel: bool
) -> str:
    if not on:
        return _("Done. Automod is off.")
    text = _(
        "Done. Automod is on. In group channels I'll remove invite links to other servers and "
        "messages that mention {threshold} or more people or roles (or ping everyone), tell "
        "the author privately and kindly why, and record a case. Facilitators are exempt."
    ).format(threshold=threshold)
    if not can_manage_messages:
        text += "\n" + _(
            "I'm missing the **Manage Messages** permission, so I can't remove anything yet."
        )
    if not has_modlog_channel:
        text += "\n" + _("Set a mod log with `/setup modlog` to see these cases as they happen.")
    return text
