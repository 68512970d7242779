"""How the patterns read context: signs ruled out, doubt, stories that ended, ongoing questions.

These readings also decide which sentences the learned detector may count, so a sentence
the patterns rule out cannot escalate through the classifier either.
"""

import pytest

from addons.model.red_flags import load_rules


@pytest.fixture(scope="module")
def rules(nlp):
    return load_rules(nlp)


def test_a_protected_wound_is_ruled_out_even_where_no_wound_phrase_matched(rules):
    finding = rules.detect("stepped on a drawing pin yesterday and had my tetanus booster last year, so fine")
    assert finding.level is None and "wound" in finding.negated


@pytest.mark.parametrize(
    "text",
    [
        "never had a tetanus jab and I stood on a rusty nail today",
        "no idea when I last had a tetanus jab, I cut my knee on barbed wire",
    ],
)
def test_a_negated_or_doubted_ruling_out_rules_nothing_out(rules, text):
    assert rules.detect(text).level == "urgent"


def test_a_sign_about_the_past_by_nature_is_still_reported(rules):
    finding = rules.detect("last tetanus shot was probably 20 years ago and I cut my hand on rusty wire")
    assert finding.level == "urgent" and "tetanus_unsure" in finding.signs


def test_a_story_that_ended_is_history_and_no_report(rules):
    finding = rules.detect("had a fit once when I was 15, nothing since")
    assert finding.level is None and finding.not_a_report


def test_a_present_report_is_a_report(rules):
    finding = rules.detect("dad is having a fit and it's been going on more than 5 minutes")
    assert finding.level == "emergency" and not finding.not_a_report


def test_going_on_is_not_gone(rules):
    """'has been going on' shares the lemmas of 'is gone': it must not negate the sign."""
    assert rules.detect("my calf is swollen and red and it has been going on for days").level == "urgent"


def test_a_question_followed_by_it_still_going_on_is_a_report(rules):
    asked = rules.detect("Is it normal for a calf to stay swollen and warm after a cramp?")
    ongoing = rules.detect(
        "Is it normal for a calf to stay swollen and warm after a cramp? It's been like this for days"
    )
    assert asked.level is None and ongoing.level == "urgent"


def test_a_medicine_not_started_yet_is_ruled_out(rules):
    assert rules.detect("I'm due to start a statin next month, will it give me cramps?").level is None


@pytest.mark.parametrize(
    "text",
    [
        "Dad fell asleep after his cramp and now we can't wake him up",  # a ruling-out elsewhere in the sentence
        "Mum passed out again this morning",
        "I'm in my 50s with crushing chest pain and can't breathe",  # an age is no date
        "Feels as if I was drowning, can't breathe",  # "as if" supposes nothing
        "I'd say my chest pain is 9/10",
        "Chest pain used to come only on stairs but now it comes at rest",  # the past brought back
        "I can't walk without chest pain",  # another sign's "can't" does not cancel "without"
        "Chest pain has been going into my jaw",  # "going" is not "gone"
    ],
)
def test_an_emergency_report_is_not_read_away_by_context(rules, text):
    assert rules.detect(text).level == "emergency"


def test_a_ruling_out_in_one_sentence_does_not_silence_another(rules):
    finding = rules.detect("Had my tetanus booster last year. Now I can't breathe and my chest hurts")
    assert finding.level == "emergency" and "wound" not in finding.negated and "wound" in finding.ruled_out


def test_a_sign_asked_and_answered_no_by_the_writer_is_negated(rules):
    finding = rules.detect("Chest pain? No. Short of breath? Nope. My calf just cramps at night.")
    assert finding.level is None
    assert {"chest_pain", "breathless"} <= set(finding.negated)


def test_a_sign_asked_and_answered_yes_is_reported(rules):
    assert rules.detect("Chest pain? Yes, and my calf is swollen.").level == "emergency"


def test_a_phone_number_is_no_numbness(rules):
    """The lookup lemma of "number" is "numb"; the pattern file keeps it as written."""
    finding = rules.detect("what number do I ring for an ambulance when we travel?")
    assert "numbness" not in finding.signs and finding.level is None
    assert "numbness" in rules.detect("my foot is numb since the cramp").signs


def test_a_medicine_named_in_a_question_frames_what_the_next_sentence_reports(rules):
    finding = rules.detect("Can quinine cause bleeding? My gums bleed every time I brush since I started it.")
    assert (finding.level, finding.reason) == ("urgent", "medicine_stop")
    # Asked about with nothing reported, it still escalates nothing.
    assert rules.detect("Can quinine cause bleeding gums or bruising?").level is None


def test_a_setting_asked_about_in_a_question_does_not_count_as_reported(rules):
    """Only medicines marked to frame from a question do: a planned operation asked about
    beside a hypothetical pain stays a question.
    """
    assert (
        rules.detect(
            "Having my knee op next month. In case my calf hurts afterwards, how would I tell a cramp from a clot?"
        ).level
        is None
    )


def test_new_numbness_is_urgent_but_not_when_it_came_on_over_months(rules):
    assert rules.detect("after the cramp last night my foot went numb and it's still numb").level == "urgent"
    assert rules.detect("my feet have gone numb gradually over the past year and I cramp at night").level == "routine"


def test_a_medicine_only_in_the_past_frames_nothing(rules):
    assert rules.detect("I was on statins years ago. Now my muscles ache all over").level != "urgent"
    assert rules.detect("I'm not on quinine. Does quinine cause bruising? I bruise easily").level != "urgent"


def test_numbness_is_new_even_when_the_cramps_are_old(rules):
    assert rules.detect("I've had cramps for years. My foot has been numb since yesterday").level == "urgent"


def test_the_reasons_a_message_doubts_are_those_of_the_signs_asked_about(rules):
    """The learned detector must be sure to escalate for these (addons/model/nlu_components.py)."""
    supposed = rules.detect("Hypothetically, if my toddler drank the liniment, who do we ring? It's up on a shelf.")
    assert supposed.level is None and "poisoning" in rules.doubted_reasons(supposed)
    # A negation removes only the sign it negates: no chest pain says nothing of breathlessness.
    denied = rules.detect("no chest pain, still cramping and sick an hour after the heat, not confused")
    assert not {"breathing_or_chest", "heat"} & rules.doubted_reasons(denied)
    # A question about statins frames every statin combination.
    asked = rules.detect("before I start a statin, which muscle symptoms should worry me?")
    assert {"rhabdo", "medicine_stop"} <= rules.doubted_reasons(asked)


@pytest.mark.parametrize(
    "text",
    [
        "in case I get bitten by a dog on my walks, how soon would I need a tetanus jab?",
        "say my husband couldn't be woken one night, what's the plan?",
        "had a DVT 5 years ago, all good now. are cramps related?",
        "the turpentine my neighbour's boy swallowed years back was sorted in hospital; is rubbing it on safe?",
    ],
)
def test_plans_and_settled_stories_are_not_reports(rules, text):
    assert rules.detect(text).level is None


def test_a_habit_told_with_use_to_is_not_history(rules):
    assert rules.detect("my son drank the turpentine I use to rub my legs").level == "emergency"
