"""Discord adapters: each implements exactly one feature's port over discord.py.

Services never import discord: a port is a small Protocol beside its feature's service, and
the bot hands each service its adapter (discord/adapters.py, wiring.build_services). An
adapter raises DiscordActionFailed (with a kind message) where its port says Discord's
refusal reaches the member.

  common.py            error codes, permission overwrites, the one refusal message
  notices.py           DMs and channel notices, shared by the others (SessionsPort)
  groups.py            group channels and who may see them (GroupsPort)
  reminders.py         reminders, paced under Discord's global limit (ReminderPort)
  scheduled_events.py  Discord's Events panel (ScheduledEventsPort)
  moderation.py        /mod actions and the mod log (ModerationPort)
  resources.py         the resource library's posts (ResourcesPort)
  reports.py           private threads or channels with the facilitators (ReportsPort)
  safety.py            the safety watch (SafetyPort) and automod (AutomodPort)
  presence.py          who is still on a server, for retention (MemberPresence)
  names.py             display names for a facilitator's attendance export
"""
