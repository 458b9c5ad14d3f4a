"""The safety watch in Spanish (#17 item 4): the Spanish list's and the Spanish classifier's
measured precision/recall, and that the two languages, both read on every message, stay out of
each other's way."""

from __future__ import annotations

import threading

import pytest

from familybot.db.connection import Database
from familybot.services.safety import english_model
from familybot.services.safety import model as safety_model
from familybot.services.safety.lists import SPANISH_PHRASES_FILE, PhraseLists
from familybot.services.safety.service import MessageOutcome
from familybot.services.safety.spanish_model import (
    SpanishWatch,
    SpanishWeights,
    features,
    light_detector,
    looks_spanish,
    pieces,
    shared_weights,
    spanish_watch,
)
from familybot.services.safety.watch import (
    MAX_CHARS,
    PHRASES_FILE,
    WINDOW_WORDS,
    Detector,
    PhraseList,
    WatchResult,
    normalise,
    score,
)
from tests.data.safety import (
    ENGLISH_TRAINING,
    SPANISH_RETIRED,
    SPANISH_TRAINING,
    Example,
    load,
    newest_held_out,
    sizes,
)
from tests.support.fakes import FakeClock
from tests.support.safety_fakes import safety_world
from tests.unit.test_safety_watch import ADVERSARIAL, CATEGORIES

TARGET_PRECISION = 0.90
TARGET_RECALL = 0.90
# The Spanish training sets, each by a different hand (tests/data/safety/__init__.py): the
# list's writer's, held-out 1 (retired in the second Spanish round), that round's own and
# held-out 2 (retired in the third round, after its one measurement).
ES_TRAINING = {name: load(name) for name in SPANISH_TRAINING}
ES_TUNING = ES_TRAINING["es_tuning"]
# The Spanish held-out set: the newest es_heldoutN.tsv not retired, written by another hand
# from the categories, never read by whoever tunes the Spanish list (only counts per category
# are printed here, never a text). Merged by the lead after a round; on a branch without one
# the held-out test skips, saying so.
ES_HELD_OUT_NAME = newest_held_out("es_heldout")
ES_HELD_OUT_AS_WRITTEN = load(ES_HELD_OUT_NAME) if ES_HELD_OUT_NAME else ()
NO_ES_HELD_OUT = (
    "no unretired Spanish held-out set (es_heldoutN.tsv) on this branch: the Spanish matcher's "
    "held-out figures are NOT measured here (the next set is written by another helper)"
)
# A held-out message equal to a training message (after normalising) is no test of new
# wording: it is scored as neither, and the count is printed.
_TRAINED = {normalise(e.text) for examples in ES_TRAINING.values() for e in examples}
ES_HELD_OUT = tuple(e for e in ES_HELD_OUT_AS_WRITTEN if normalise(e.text) not in _TRAINED)
# THE LEAD SETS THIS after measuring Spanish held-out 2 once: (precision, recall) of the
# bot's matcher (both lists) on es_heldout2.tsv, rounded down. None: not measured yet, so the
# matcher must meet the target (TARGET_PRECISION, TARGET_RECALL) there.
# Measured once by the lead after the second Spanish round, 2 December 2026 (398 messages,
# 200 at risk, none equal to a training one): precision 0.929, recall 0.655 (the Spanish list
# alone 0.926 / 0.625). Below the target: recall short. Retired to training in the third
# Spanish round (ES_TRAINING_FLOORS keeps this figure for it).
ES_HELDOUT2_MATCHER_FLOOR: tuple[float, float] | None = (0.92, 0.65)
# Floors per Spanish held-out set; a set not named here, or named with None, must meet the
# target. (Held-out 1, measured once on 2 December 2026: precision 0.953, recall 0.649;
# held-out 2 as above; both retired since.)
HELD_OUT_FLOORS_ES: dict[str, tuple[float, float] | None] = {
    "es_heldout2": ES_HELDOUT2_MATCHER_FLOOR,
    # Measured once by the lead after the third Spanish round (3 December 2026; written on
    # another branch by a hand that had read neither the lists nor the model; 407 messages,
    # 209 at risk, none equal to a training one): the bot's Spanish detector (light_detector)
    # precision 0.921, recall 0.943, meeting the target; both lists alone 0.953 / 0.675, the
    # Spanish list alone 0.950 / 0.636. Rounded down:
    "es_heldout3": (0.92, 0.94),
}
# Floors on the Spanish training sets (what the list was tuned on: not a claim about new
# messages; they stop a change from quietly undoing earlier work). Measured after the second
# Spanish round (those left wrong are printed); the held-out figures are the honest ones.
ES_TRAINING_FLOORS = {
    "es_tuning": (0.99, 0.98),
    "es_heldout1": (0.98, 0.96),
    "es_tuning2": (0.99, 0.97),
    # Held-out 2, retired: the lists were never tuned on it, so this is its held-out figure.
    "es_heldout2": (0.92, 0.65),
}
# The bot's Spanish reading in every install (light_detector: the English list, or the
# Spanish list checked by the Spanish classifier, or that classifier) on the sets its weights
# were fitted on: a fit, not a claim about new messages (bench/safety_es.py --cv gives the
# cross-validated figures). Measured after the third Spanish round.
ES_DETECTOR_TRAINING_FLOORS = {
    "es_tuning": (0.98, 0.99),
    "es_heldout1": (0.98, 0.99),
    "es_tuning2": (0.99, 0.99),
    "es_heldout2": (0.97, 0.98),
}
# Every English set, training and held out, and the ordinary chatter.
ENGLISH = (*ENGLISH_TRAINING, "ordinary")
ENGLISH_HELD_OUT = newest_held_out()


def _spanish() -> PhraseList:
    return PhraseList.load(SPANISH_PHRASES_FILE)


def _figures(
    detector: Detector, name: str, examples: tuple[Example, ...], *, held_out: bool
) -> tuple[float, float]:
    """Print one set's figures: in full for the tuning set, counts per category only for the
    held-out one (whoever tunes the list must not see which held-out messages it misses)."""
    precision, recall, false_pos, false_neg = score(
        detector, [(e.text, e.at_risk) for e in examples]
    )
    positives = sum(e.at_risk for e in examples)
    print(
        f"\n{detector.name} on {name}: {len(examples)} messages ({positives} at risk): "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    if held_out:
        wrong = sizes(tuple(e for e in examples if detector.matches(e.text) != e.at_risk))
        for (label, category), total in sorted(sizes(examples).items()):
            kind = "missed" if label else "false alarms"
            print(f"  {category}: {kind} {wrong[(label, category)]} of {total}")
        return precision, recall
    for text in false_pos:
        print(f"  false positive: {text}")
    for text in false_neg:
        print(f"  missed: {text}")
    return precision, recall


@pytest.mark.parametrize("name", SPANISH_TRAINING)
def test_spanish_training_figures(name: str) -> None:
    """Both lists (the matcher, without the Spanish classifier), on each Spanish training set."""
    precision, recall = _figures(PhraseLists.load(), name, ES_TRAINING[name], held_out=False)
    floor = ES_TRAINING_FLOORS[name]
    assert precision >= floor[0] and recall >= floor[1], (name, precision, recall, floor)


@pytest.mark.parametrize("name", SPANISH_TRAINING)
def test_spanish_detector_training_figures(name: str) -> None:
    """What the bot reads Spanish with in every install, on each set the Spanish classifier
    was fitted on; the false alarms it keeps are printed (known false alarms)."""
    precision, recall = _figures(light_detector(), name, ES_TRAINING[name], held_out=False)
    floor = ES_DETECTOR_TRAINING_FLOORS[name]
    assert precision >= floor[0] and recall >= floor[1], (name, precision, recall, floor)


def test_the_spanish_held_out_set_is_the_newest_unretired_one() -> None:
    """Held-out 1 and 2 are training now; the held-out test reads a newer set, or says there
    is none."""
    assert ES_HELD_OUT_NAME not in SPANISH_RETIRED
    assert set(SPANISH_RETIRED) <= set(SPANISH_TRAINING)
    if ES_HELD_OUT_NAME is None:
        print(f"\n{NO_ES_HELD_OUT}")


@pytest.mark.skipif(ES_HELD_OUT_NAME is None, reason=NO_ES_HELD_OUT)
def test_spanish_held_out_figures() -> None:
    """What the bot reads Spanish with in every install (light_detector) on the newest Spanish
    held-out set: counts only, then the floor (HELD_OUT_FLOORS_ES) or, before the lead has
    measured, the target. The lists alone are printed beside it, for comparison."""
    assert ES_HELD_OUT_NAME is not None
    seen = len(ES_HELD_OUT_AS_WRITTEN) - len(ES_HELD_OUT)
    print(f"\n{ES_HELD_OUT_NAME}: {seen} messages equal a training message, not scored")
    precision, recall = _figures(light_detector(), ES_HELD_OUT_NAME, ES_HELD_OUT, held_out=True)
    _figures(PhraseLists.load(), f"{ES_HELD_OUT_NAME} (both lists)", ES_HELD_OUT, held_out=True)
    _figures(_spanish(), f"{ES_HELD_OUT_NAME} (Spanish list alone)", ES_HELD_OUT, held_out=True)
    floor = HELD_OUT_FLOORS_ES.get(ES_HELD_OUT_NAME) or (TARGET_PRECISION, TARGET_RECALL)
    if precision < TARGET_PRECISION or recall < TARGET_RECALL:
        print(f"below the target {TARGET_PRECISION} / {TARGET_RECALL} in Spanish")
    assert precision >= floor[0], ("Spanish", ES_HELD_OUT_NAME, "precision", precision, floor)
    assert recall >= floor[1], ("Spanish", ES_HELD_OUT_NAME, "recall", recall, floor)


def test_spanish_tuning_set_is_big_split_and_covers_every_category() -> None:
    assert len(ES_TUNING) >= 250
    share = sum(e.at_risk for e in ES_TUNING) / len(ES_TUNING)
    assert 0.4 <= share <= 0.6
    counts = sizes(ES_TUNING)
    assert set(counts) <= {(label, c) for label, names in CATEGORIES.items() for c in names}
    for label, names in CATEGORIES.items():
        for category in names:
            assert counts[(label, category)] >= 10, (label, category)
    assert {e.person for e in ES_TUNING if e.at_risk} >= {"self", "other"}
    for name, examples in ES_TRAINING.items():
        texts = [normalise(e.text) for e in examples]
        assert len(texts) == len(set(texts)), name
        assert all(e.category in CATEGORIES[int(e.at_risk)] for e in examples), name
    # Counts only: a held-out text is never printed.
    held = [normalise(e.text) for e in ES_HELD_OUT_AS_WRITTEN]
    assert len(held) == len(set(held)), "a Spanish held-out message appears twice"


def test_the_spanish_list_never_fires_on_english_negatives() -> None:
    """On every English set (training, held out and ordinary chatter) the Spanish list fires on
    no message labelled 0, so the bot's matcher keeps the English list's precision there.
    Counts only (the English held-out set is among them)."""
    spanish = _spanish()
    names = (*ENGLISH, *([ENGLISH_HELD_OUT] if ENGLISH_HELD_OUT else []))
    for name in names:
        negatives = [e.text for e in load(name) if not e.at_risk]
        fired = sum(spanish.matches(text) for text in negatives)
        print(f"\nSpanish list on {name}: fires on {fired} of {len(negatives)} negatives")
        assert fired == 0, name


def test_the_spanish_watch_never_fires_on_english_negatives() -> None:
    """The Spanish watch as the bot runs it (the list checked by the classifier, or the
    classifier) fires on no English message labelled 0, nor on the ordinary chatter: no more
    than the Spanish list alone did. Counts only (the English held-out set is among them)."""
    watch = SpanishWatch(PhraseLists({SPANISH_PHRASES_FILE: _spanish()}))
    names = (*ENGLISH, *([ENGLISH_HELD_OUT] if ENGLISH_HELD_OUT else []))
    for name in names:
        negatives = [e.text for e in load(name) if not e.at_risk]
        fired = sum(watch.matches(text) for text in negatives)
        # Read by the classifier: those with no more common English words than Spanish ones.
        read = sum(looks_spanish(text) for text in negatives)
        print(
            f"\nSpanish watch on {name}: fires on {fired} of {len(negatives)} negatives "
            f"({read} read by the classifier)"
        )
        assert fired == 0, name


def test_the_english_list_never_fires_on_spanish_negatives() -> None:
    english = PhraseList.load()
    for name, examples in ES_TRAINING.items():
        fired = [e.text for e in examples if not e.at_risk and english.matches(e.text)]
        assert fired == [], name
    held = sum(english.matches(e.text) for e in ES_HELD_OUT if not e.at_risk)
    assert held == 0, f"the English list fires on {held} Spanish held-out negatives"


def test_normalise_drops_accents_and_spanish_punctuation() -> None:
    assert normalise("¿Ya no puedo MÁS?") == "ya no puedo mas"
    assert normalise("¡Qué año!") == "que ano"
    assert normalise("pingüino, corazón") == "pinguino corazon"
    assert normalise("don’t") == "dont"  # the English rules still hold


def test_clause_cut_lines_replace_the_english_cut() -> None:
    cut = PhraseList.parse("clause-cut: (?i:\\bpero\\b)\nre: quiero\n", "x.txt")
    assert [s.clauses for s in cut.sentences("Estoy bien pero cansada")] == [
        ("estoy bien", "cansada")
    ]
    english = PhraseList.parse("re: x\n")
    assert [s.clauses for s in english.sentences("fine but tired, pero bien")] == [
        ("fine", "tired", "pero bien")
    ]


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        # Written for this test, not copied from the labelled set.
        ("Últimamente quiero morirme", True),
        ("ultimamente kiero morirme", True),
        ("mi sobrino dice que se va a quitar la vida", True),
        ("No aguanto más, me quiero matar", True),
        ("Estoy bien, pero a veces pienso en matarme", True),
        ("Ya no puedo más con esta vida", True),
        ("mis papás estarían mejor sin mí", True),
        ("mi nieta se está cortando otra vez", True),
        ("¿Es normal tener pensamientos suicidas en la adolescencia?", False),
        ("Me muero de risa con mis nietos 😂", False),
        ("este trabajo me está matando", False),
        ("No quiero morir, quiero estar bien", False),
        ("Hace años pensaba en suicidarme, hoy estoy feliz", False),
        ("En la telenovela el galán se quiere matar", False),
        ("no puedo más con el calor de hoy", False),
        ("me corté el pelo y quedó fatal", False),
        # The second Spanish round's lines (also written for this test).
        ("Sin mí aquí estarían mucho más tranquilos", True),
        ("mi tía juntó mucha insulina y no se la pone", True),
        ("estoy sentada en las vías del tren", True),
        ("la semana que viene me tiro del puente, ya no aguanto", True),
        ("hoy es el día, ya lo decidí", True),
        ("para nada pienso en matarme, tranqui", False),
        ("el rapero canta quiero desaparecer en su rola nueva", False),
        ("¿cómo le pregunto a mi hija si se está cortando?", False),
        ("me tiro por la ventana si vuelve a llover jajaja", False),
        ("gracias por todo y adiós, me salgo del grupo porque me mudo", False),
        # Everyday messages near the second round's lines, which must stay quiet.
        ("guardo la insulina en el refri", False),
        ("me he vuelto a cortar el pelo", False),
        ("cuando llegue a casa me tomo las pastillas de la presión", False),
        ("tengo escrito un plan de estudios para el semestre, con la fecha de cada examen", False),
        ("ya compré las pastillas, mañana empiezo el tratamiento", False),
        ("hace calor, me tiro al río", False),
        ("estoy en el puente ahorita, hay un tráfico horrible", False),
        ("cuiden a mis hijos el sábado, ya no voy a poder ir", False),
        ("si me muero de hambre nadie se da cuenta jaja", False),
        ("me acabo de tomar un montón de café", False),
        ("te dejo las contraseñas del wifi", False),
        ("dejé el carro prendido en la cochera para que se calentara", False),
        # A question about how to ask is quiet; a parent's report of what was said is not.
        ("cuando le pregunto si está bien, dice que se quiere matar", True),
        ("necesito ayuda para mi hijo que se quiere matar, ahorita", True),
    ],
)
def test_spanish_matching_examples(text: str, hit: bool) -> None:
    assert PhraseLists.load().matches(text) is hit


async def test_the_watch_reads_spanish_whatever_the_server_language(
    db: Database, clock: FakeClock
) -> None:
    """The server here is set to English (the default): a Spanish message is still read by the
    Spanish list and the person gets the DM, the facilitators the alert."""
    w = await safety_world(db, clock)
    quiet = await w.send("me muero de risa con este grupo", author=41)
    assert isinstance(quiet, MessageOutcome) and quiet.watch is not None
    assert quiet.watch.result is WatchResult.NO_MATCH
    outcome = await w.send("ya no quiero vivir, nadie me extrañaría", author=42)
    assert isinstance(outcome, MessageOutcome) and outcome.watch is not None
    assert outcome.watch.result is WatchResult.ALERTED
    assert [user for user, _ in w.io.dms] == [42] and len(w.io.alerts) == 1


def test_every_install_reads_both_languages() -> None:
    detector = light_detector()
    assert detector.matches("ya no quiero vivir") and detector.matches("I want to die")
    assert not detector.matches("me muero de risa") and not detector.matches("dying of laughter")


@pytest.mark.skipif(safety_model.missing() is None, reason="the extra would load the model")
def test_the_bots_detector_without_the_extra_is_every_installs() -> None:
    detector = safety_model.bot_detector()
    assert detector.name == english_model.light_detector().name
    assert detector.matches("ya me cansé de todo, quiero que esto se acabe de una vez")


def test_the_spanish_classifier_ships_and_loads_once() -> None:
    """The weights are in the package (a few hundred KB of JSON), read once per process, and
    the rule's two numbers are sane: the list's floor below the classifier's threshold."""
    weights = shared_weights()
    assert shared_weights() is weights
    assert len(weights.weights) > 1000
    assert 0 < weights.list_floor <= weights.threshold < 1
    assert SpanishWeights.load().weights == weights.weights
    assert weights.probability("ya me cansé de todo, quiero morirme") >= weights.threshold
    assert weights.probability("me muero de risa jajaja") < weights.list_floor


def test_the_spanish_classifier_ignores_what_it_never_saw() -> None:
    """No known feature (an empty message, a wall of emoji): the intercept alone, below the
    threshold, so the classifier alone never fires on it."""
    weights = shared_weights()
    assert weights.probability("") < weights.threshold
    assert weights.probability("😂" * 4000) < weights.threshold
    assert features("¿Quién?") == features("quien")


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        # Written for this test: the Spanish classifier catches what the list misses...
        ("ya me cansé de todo, quiero que esto se acabe de una vez", True),
        ("siento que no valgo nada y que todos estarían mejor", True),
        ("ya escribí las cartas para mis hijos", True),
        ("mi hermano regaló todas sus cosas y se despidió de todos", True),
        ("siento que soy un estorbo para mi familia", True),
        # ...and keeps the list's catches.
        ("mi sobrino dice que se va a quitar la vida", True),
        ("ultimamente kiero morirme", True),
        # Quiet: idioms, past, everyday.
        ("Me muero de risa con mis nietos 😂", False),
        ("mi abuela falleció el año pasado y todavía la extraño", False),
        ("que flojera ir al gimnasio hoy", False),
        ("guardo la insulina en el refri", False),
        ("ayer vi una película muy triste", False),
        # English goes to the English list, never to the Spanish classifier.
        ("two years free from self harm today", False),
    ],
)
def test_the_bots_spanish_examples(text: str, hit: bool) -> None:
    assert light_detector().matches(text) is hit


def test_known_false_alarms_of_the_spanish_classifier() -> None:
    """Written for this test: the classifier does not read the list's quiet lines, so some
    negations and ordinary plans score high. Known; a change that quiets them is welcome
    (then flip these)."""
    detector = light_detector()
    assert not PhraseLists.load().matches("para nada pienso en matarme, tranqui")
    assert detector.matches("para nada pienso en matarme, tranqui")
    assert detector.matches("cuiden a mis hijos el sábado, ya no voy a poder ir")


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_the_spanish_classifier_reads_a_long_message_in_bounded_pieces(text: str) -> None:
    """Every piece is at most WINDOW_WORDS words, and the pieces hold each word of the message
    (its first MAX_CHARS characters) at most about three times: linear work."""
    found = pieces(text)
    words = len(text[:MAX_CHARS].split())
    assert max(len(p.split()) for p in found) <= WINDOW_WORDS
    assert sum(len(p.split()) for p in found) <= 3 * words + WINDOW_WORDS


def test_one_sentence_of_risk_in_a_long_message_is_not_averaged_away() -> None:
    news = "Hoy fuimos al mercado y compramos fruta para la semana. " * 30
    assert not light_detector().matches(news)
    assert light_detector().matches(news + "Ya me cansé de todo, quiero que esto se acabe. " + news)


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_the_spanish_list_reads_a_long_message_in_small_bounded_windows(text: str) -> None:
    windows = _spanish().sentences(text)
    assert max(len(s.text) for s in windows) <= WINDOW_WORDS * 12


def test_an_opening_question_mark_quiets_no_english_line() -> None:
    """ "¿" makes a sentence a question for the Spanish list only: in English text (a writer
    of both languages) it once quieted the topic lines ("suicide", "self harm")."""
    english = PhraseList.load()
    text = "¿ok so i have been thinking about suicide a lot lately"
    assert english.matches(text)
    assert english.matches(text.removeprefix("¿"))


def test_with_the_extra_spanish_is_read_by_the_spanish_watch() -> None:
    """With the English extra the bot's detector is Gated, its ungated part the Spanish watch
    (model.bot_detector): Spanish the list misses is caught by the Spanish classifier whether
    or not the English model has loaded. Here it never loads (its loader waits, then fails)."""
    release = threading.Event()

    def never_ready() -> safety_model.SafetyClassifier:
        release.wait(5)
        raise RuntimeError("not loaded in this test")

    lists = PhraseLists.load()
    detector = safety_model.combined(
        lists.lists[PHRASES_FILE],
        safety_model.LazyClassifier(never_ready),
        spanish_watch(lists),
    )
    english = lists.lists[PHRASES_FILE]
    full = safety_model.FullRule(
        english,
        safety_model.LazyClassifier(never_ready),
        english_model.EnglishWatch(english),
        spanish_watch(lists),
    )
    try:
        for watching in (detector, full):
            assert watching.matches("ya me cansé de todo, quiero que esto se acabe de una vez")
            assert watching.matches("I want to die")
            assert not watching.matches("me muero de risa con este grupo")
    finally:
        release.set()
