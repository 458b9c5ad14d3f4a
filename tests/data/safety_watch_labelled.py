"""Made-up messages, labelled for the safety watch's precision/recall test.

All of them are invented for this test; none comes from a real person.

Label True ("at risk") means: a facilitator would want to know, and the crisis lines are the
right thing to send the author, because of what the message says about NOW:
- the author says they are at risk (direct or indirect: "I don't want to be here anymore");
- the author says someone they love is at risk now, in the present tense ("my daughter
  keeps saying she wants to die"). Crisis lines also serve people worried about someone
  else, so sending them to a frightened parent is appropriate, not a mistake.

Label False means the watch should stay quiet:
- past events and recovery stories ("my son said he wanted to kill himself last year and
  now he is doing better"). These are the ordinary, healthy talk of a family group; alerting
  on them would make sharing feel watched and bury facilitators in noise;
- jokes and figures of speech ("this traffic is killing me");
- negations, questions about the topic, and facilitators' own supportive messages.

Borderline choices are marked with a comment so a reviewer can disagree in one place.
"""

from __future__ import annotations

LABELLED: tuple[tuple[str, bool], ...] = (
    # --- the author at risk, direct ---------------------------------------------------------
    ("I want to die.", True),
    ("honestly i just want to die", True),
    ("I wish I was dead", True),
    ("I'm going to kill myself", True),
    ("i want to kill myself tonight", True),
    ("I'm thinking about ending it", True),
    ("been thinking about killing myself a lot this week", True),
    ("I feel suicidal again", True),
    ("I've been feeling really suicidal since the hospital visit", True),
    ("I want to end my life", True),
    ("I want to end it all", True),
    ("i might just kill myself", True),
    ("I keep having suicidal thoughts and I don't know who to tell", True),
    ("I need to hurt myself to feel something", True),
    ("I've been thinking about hurting myself again", True),
    ("I want to take my own life", True),
    ("i wanna die", True),
    # --- the author at risk, indirect -------------------------------------------------------
    ("I don't want to be here anymore", True),
    ("I don’t want to be here anymore.", True),
    ("i dont want to live anymore", True),
    ("There's no reason to go on.", True),
    ("honestly there's no reason to live", True),
    ("I have nothing to live for now that he's gone", True),
    ("I can't do this anymore", True),
    ("I can't go on like this", True),
    ("Everyone would be better off without me", True),
    ("my family would be better off without me", True),
    ("I'm just a burden to everyone", True),
    ("I wish I could just not wake up", True),
    ("I won't be around much longer", True),
    ("I don't see the point in living", True),
    ("what's the point of living when nothing changes", True),
    ("I'd be better off dead", True),
    ("I've written my goodbyes", True),
    ("This is my last message to this group.", True),
    ("I can't take it anymore, I'm done", True),
    ("I don't want to wake up tomorrow", True),
    ("sometimes I wish I were dead", True),
    ("I just can't keep going anymore", True),
    # --- someone they love, at risk now -----------------------------------------------------
    ("My son keeps saying he wants to die and I don't know what to do", True),
    ("my daughter is talking about killing herself again", True),
    ("My husband just said he is going to kill himself", True),
    ("I'm scared she'll hurt herself tonight", True),
    ("I'm terrified he will take his own life", True),
    ("She's suicidal again and the crisis team won't come", True),
    ("my teen texted me that she wants to die", True),
    ("My son says he wants to end his life", True),
    ("my partner keeps threatening suicide", True),
    # --- hard negatives: past events and recovery stories ------------------------------------
    ("My son said he wanted to kill himself last year and now he is doing better", False),
    ("Two years ago my daughter tried to end her life. She's in college now.", False),
    ("When he was in the hospital he talked about suicide a lot, but IOP really helped", False),
    ("My wife had suicidal thoughts after our baby was born, she's much better now", False),
    # Borderline: a parent asking how to talk about it. No crisis now; False.
    ("How do you talk to a teen about suicide without making it worse?", False),
    ("The facilitator shared a good article about suicide prevention", False),
    ("Our group talked about suicide risk factors last week", False),
    ("After his attempt in March we learned so much about safety planning", False),
    ("She used to say she wanted to die, but she hasn't said it in months", False),
    ("My brother died by suicide ten years ago and I still think about him", False),
    ("Is 988 only for people who are suicidal or can families call too?", False),
    ("We made a safety plan with his therapist today", False),
    ("The hardest night was when he said he wanted to die, that was 2022", False),
    ("I'm grateful he's still here", False),
    ("I used to feel like a burden but this group changed that", False),
    # --- hard negatives: jokes and figures of speech -----------------------------------------
    ("this traffic is killing me", False),
    ("I could kill for a coffee right now", False),
    ("I'm dying to hear how the family session went", False),
    ("lol I want to die of embarrassment, I sent that to the wrong chat", False),
    ("I'm dead tired after work", False),
    ("my feet are killing me after that walk", False),
    ("this heat is going to be the death of me", False),
    ("I nearly died laughing at the video", False),
    ("My kids will kill me if I forget the cake", False),
    ("I'd kill myself laughing if he wore that hat", False),
    ("This homework is murdering my brain", False),
    ("I want to die my hair purple", False),
    ("We're killing it at the bake sale", False),
    ("the suspense is killing me, did she get the job?", False),
    # --- hard negatives: negations and reassurance -------------------------------------------
    ("I'm not suicidal, just exhausted", False),
    ("I would never hurt myself, I just need to vent", False),
    ("I don't want to kill myself, I want things to get better", False),
    ("I'm not going to kill myself, don't worry, I'm just tired", False),
    ("I'm not a burden, I know that now", False),
    # --- hard negatives: ordinary group talk --------------------------------------------------
    ("I don't want to be here for the whole session, I have to leave at 8", False),
    ("Can I leave early today? I can't stay past 7", False),
    ("I can't do this Thursday, can we move it?", False),
    ("I can't take it to the pharmacy till tomorrow", False),
    ("My son is doing better this week", False),
    ("Thanks everyone, tonight's group really helped", False),
    ("Does anyone have tips for medication reminders?", False),
    ("I'm so tired of insurance calls", False),
    ("We're going to try family therapy", False),
    ("My daughter came home from residential today!", False),
    ("The book 'No Reason to Panic' was helpful", False),
    ("He keeps saying he wants to quit school", False),
    ("I feel like giving up on the school district, honestly", False),
    ("Our dog died last week and the kids are sad", False),
    ("I'm worried she will drop out of college", False),
    ("Facilitator note: if you ever feel like you want to die, please reach out to 988", False),
    ("Reminder: the crisis lines are pinned, use /crisis any time", False),
    ("It's been a rough week but we're hanging in there", False),
    ("I'm burnt out and need a break from caregiving", False),
    ("He said he's done with therapy for now", False),
    ("I can't wait to see everyone next week", False),
    ("no reason to worry, the appointment went fine", False),
    ("I don't want to live in this town anymore, the schools are awful", False),
)

# Written after the phrase list was tuned on LABELLED above, and not used for tuning: its
# figures are the honest estimate of how the list does on messages it has not seen. When you
# tune the list against one of these, move it into LABELLED and write a fresh one here.
HELD_OUT: tuple[tuple[str, bool], ...] = (
    ("I really don't want to be here anymore", True),
    ("i cant go on living like this", True),
    ("i'm planning to kill myself this weekend", True),
    ("everybody would be better off without me honestly", True),
    ("i am a burden on my family", True),
    ("I feel like I'm suicidal again", True),
    ("I keep thinking about ending it all", True),
    ("I just want to disappear and never come back", True),  # indirect, no listed phrase
    ("I'm so tired of being alive", True),  # indirect, no listed phrase
    ("My daughter keeps talking about suicide and she won't go to therapy", True),
    ("I'm afraid he might kill himself before his intake on Monday", True),
    ("my son told me tonight he wants to die", True),
    ("He's threatening to kill himself again right now, what do I do", True),
    ("there's nothing left for me, I've said my goodbyes", True),
    ("I can't do this any more", True),
    ("My dad attempted suicide when I was a teen, so this is hard for me", False),
    ("She wanted to die back then; today she laughed for the first time in weeks", False),
    ("I'm dying of laughter at this meme", False),
    ("ugh this form wants to kill me", False),
    ("I can't go on the retreat, sorry all", False),
    ("No reason to go on about it, it's sorted", False),
    ("Is it normal to feel numb after a hospitalisation?", False),
    ("Our son is home and safe, thank you for the support", False),
    ("We read about suicide warning signs in the handout", False),
    ("I don't want to be here when they tell him, can someone else do it?", False),
    ("I'd rather die than sit through another school meeting lol", False),
    ("The movie where the guy wants to end it all was too heavy", False),
    ("I'm worried she will fail her exams", False),
    ("Worn out but okay. See you Thursday", False),
    ("He said he was suicidal in 2021 but he's stable now", False),
)
