"""/faq: answers written by the server's facilitators."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from familybot.bot import FamilyBot
from familybot.checks import is_facilitator
from familybot.i18n import _
from familybot.services.crisis.faq import ANSWER_MAX, QUESTION_MAX
from familybot.ui.help_embeds import faq_embed
from familybot.ui.text import clip, defuse


@app_commands.guild_only()
class Faq(
    commands.GroupCog, group_name="faq", group_description="Questions answered by facilitators"
):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    async def topic_autocomplete(
        self, interaction: discord.Interaction[FamilyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        questions = await self.bot.services.faq.autocomplete(interaction.guild_id, current)
        return [app_commands.Choice(name=q[:100], value=q[:100]) for q in questions]

    @app_commands.command(name="ask", description="Read the answer to a common question")
    @app_commands.describe(topic="Start typing to pick a question")
    @app_commands.autocomplete(topic=topic_autocomplete)
    async def ask(self, interaction: discord.Interaction[FamilyBot], topic: str) -> None:
        assert interaction.guild_id is not None
        entry = await self.bot.services.faq.find(interaction.guild_id, topic)
        await interaction.response.send_message(
            embed=faq_embed(entry.question, entry.answer),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="add", description="Add a question and its answer (facilitators)")
    @app_commands.describe(question="The question, as families would ask it", answer="Your answer")
    @is_facilitator()
    async def add(
        self,
        interaction: discord.Interaction[FamilyBot],
        question: app_commands.Range[str, 1, QUESTION_MAX],
        answer: app_commands.Range[str, 1, ANSWER_MAX],
    ) -> None:
        assert interaction.guild_id is not None
        entry = await self.bot.services.faq.add(
            interaction.guild_id, interaction.user.id, question, answer
        )
        await interaction.response.send_message(
            _("Done. Anyone can now read the answer with `/faq ask` “{question}”.").format(
                question=clip(defuse(entry.question), 100)
            ),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="remove", description="Remove a question (facilitators)")
    @app_commands.describe(topic="The question to remove")
    @app_commands.autocomplete(topic=topic_autocomplete)
    @is_facilitator()
    async def remove(self, interaction: discord.Interaction[FamilyBot], topic: str) -> None:
        assert interaction.guild_id is not None
        entry = await self.bot.services.faq.remove(interaction.guild_id, topic)
        await interaction.response.send_message(
            _("Done. I removed “{question}” from the FAQ.").format(
                question=clip(defuse(entry.question), 100)
            ),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Faq(bot))
