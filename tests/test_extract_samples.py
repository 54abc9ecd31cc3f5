"""The extractor on bounces we wrote ourselves: one row of expectations per sample.

Like flufl.bounce's table: each sample in tests/data/bounces names the
recipients it must give and the fields that matter for that format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bouncetool import parse_message
from bouncetool.model import Kind
from tests.support import TEST_DATA

SAMPLES = TEST_DATA / "bounces"

# file -> one dict per expected record, in order; only the keys given are checked.
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "postfix-dsn-user-unknown.eml": [
        {
            "recipient": "jan.novak@seznam.cz",
            "kind": Kind.HARD,
            "status": "5.1.1",
            "reply_code": "550",
            "action": "failed",
            "remote_mta": "mx1.seznam.cz",
            "reporting_mta": "mail.firma-priklad.cz",
            "original_message_id": "<jarni-slevy-2025.jan.novak@firma-priklad.cz>",
            "original_sender": "newsletter@firma-priklad.cz",
            "campaign": "jarni-slevy-2025",
            "date": "2025-03-03T09:14:21+01:00",
        }
    ],
    "exim-text-mailbox-full.eml": [
        {
            "recipient": "petra.svobodova@email.cz",
            "kind": Kind.HARD,
            "status": "5.2.2",
            "reply_code": "552",
            "remote_mta": "mx2.seznam.cz",
            "campaign": "88213-17",
            "original_message_id": "<brezen-2025.17@firma-priklad.cz>",
        }
    ],
    "qmail-user-unknown.eml": [
        {
            "recipient": "lukas.cerny@volny.cz",
            "kind": Kind.HARD,
            "status": "5.1.1",
            "reply_code": None,
            "diagnostic": "Sorry, no mailbox here by that name. (#5.1.1)",
            "campaign": "brezen-2025",
        }
    ],
    "office365-recipient-not-found.eml": [
        {
            "recipient": "tomas.horak@outlook.com",
            "kind": Kind.HARD,
            "status": "5.1.10",
            "reply_code": "550",
            "original_message_id": "<novinky.tomas@firma-priklad.cz>",
        }
    ],
    "gmail-account-disabled.eml": [
        {
            "recipient": "karel.dvorak@gmail.com",
            "kind": Kind.HARD,
            "status": "5.2.1",
            "reply_code": "550",
        }
    ],
    "seznam-cs-mailbox-full.eml": [
        {
            "recipient": "martina.vesela@post.cz",
            "kind": Kind.SOFT,
            "status": "4.2.2",
            "reply_code": "452",
            "campaign": "brezen-2025",
        }
    ],
    "wp-pl-user-unknown.eml": [
        {
            "recipient": "anna.nowak@wp.pl",
            "kind": Kind.HARD,
            "status": "5.1.1",
            "reply_code": "550",
            "diagnostic": "550 5.1.1 Adresat nie istnieje (user unknown)",
            "campaign": "brezen-2025-pl",
        }
    ],
    "arf-complaint.eml": [
        {
            "recipient": "eva.kralova@centrum.cz",
            "kind": Kind.COMPLAINT,
            "feedback_type": "abuse",
            "status": None,
            "reply_code": None,
            "original_message_id": "<novinky.eva@firma-priklad.cz>",
            "campaign": "brezen-2025",
        }
    ],
    "onet-vacation.eml": [
        {
            "recipient": "marek.zielinski@onet.pl",
            "kind": Kind.AUTO_REPLY,
            "status": None,
            "original_message_id": "<novinky.marek@firma-priklad.cz>",
        }
    ],
    "postfix-delayed.eml": [
        {
            "recipient": "info@firma-priklad.cz",
            "kind": Kind.DELAYED,
            "action": "delayed",
            "status": "4.4.1",
            "diagnostic": "connect to mx.firma-priklad.cz[192.0.2.80]:25: Connection timed out",
        }
    ],
    "postfix-delivered.eml": [
        {"recipient": "jan.novak@seznam.cz", "kind": Kind.DELIVERED, "status": "2.0.0"}
    ],
    "not-a-bounce.eml": [{"recipient": None, "kind": Kind.NOT_BOUNCE, "status": None}],
    "sendmail-two-recipients.eml": [
        {"recipient": "marek.zielinski@onet.pl", "kind": Kind.HARD, "status": "5.1.1"},
        {
            "recipient": "zofia.wojcik@interia.pl",
            "status": "5.7.1",
            "reply_code": "554",
            "diagnostic": "(reason: 554 5.7.1 Message rejected as spam)",
        },
    ],
    "cp1250-declared-utf8.eml": [
        {"recipient": "pavel.marek@centrum.cz", "kind": Kind.HARD, "status": "5.1.1"}
    ],
    # The SMTP stage from the human-readable part joins the DSN's diagnostic.
    "postfix-dsn-end-of-data.eml": [
        {
            "recipient": "tomas.kral@mobil-priklad.cz",
            "status": "5.0.0",
            "diagnostic": "550 Unknown user tomas.kral@mobil-priklad.cz"
            " (in reply to end of DATA command)",
        },
        {
            "recipient": "eva.hajkova@mobil-priklad.cz",
            "status": "5.7.1",
            "diagnostic": "550 5.7.1 Access denied (in reply to MAIL FROM command)",
        },
    ],
    "sendmail-dsn-transcript-data.eml": [
        {
            "recipient": "rodice@filtr-priklad.jp",
            "reply_code": "550",
            "diagnostic": ">>> DATA <<< 550 Unknown user rodice@filtr-priklad.jp",
        }
    ],
    # Sendmail gives a local mailer's failure only as its exit status: each recipient gets
    # the transcript line naming it, the exit status kept; a path naming a user is no answer.
    "sendmail-dsn-exit-status.eml": [
        {
            "recipient": "starosta@obec-priklad.cz",
            "status": "5.3.0",
            "reply_code": "550",
            "diagnostic": "550 5.0.0 <starosta@obec-priklad.cz>... Insufficient permission"
            " (X-Unix; 77)",
        },
        {
            "recipient": "hasici@obec-priklad.cz",
            "status": "5.1.1",
            "reply_code": "550",
            "diagnostic": "550 5.1.1 <hasici@obec-priklad.cz>... User unknown (X-Unix; 67)",
        },
    ],
    # An empty Diagnostic-Code of a deferral: Sendmail's "Deferred: 421" line and its notes.
    "sendmail-dsn-deferred-421.eml": [
        {
            "recipient": "zakaznik.novak@mobil-priklad.cz",
            "kind": Kind.DELAYED,
            "status": "4.5.0",
            "reply_code": "421",
            "diagnostic": "<zakaznik.novak@mobil-priklad.cz>... Deferred: 421"
            " Warning: message still undelivered after 4 hours"
            " Will keep trying until message is 5 days old",
        }
    ],
    # A real SMTP Diagnostic-Code is kept, whatever Sendmail sums up below it.
    "sendmail-dsn-real-diagnostic.eml": [
        {
            "recipient": "ctenar.kral@posta-priklad.cz",
            "status": "5.2.2",
            "reply_code": "552",
            "diagnostic": ">>> DATA <<< 552 5.2.2 <ctenar.kral@posta-priklad.cz>... Mailbox full",
        }
    ],
    # A pipe recipient is named by its command: the report's one failure line answers.
    "sendmail-dsn-pipe-recipient.eml": [
        {
            "recipient": "clenove@spolek-priklad.cz",
            "reply_code": "554",
            "diagnostic": '554 "|/usr/bin/procmail -a clenove"... Service unavailable',
        }
    ],
    # m-FILTER names the command in its own section below the answer.
    "mfilter-smtp-command-data.eml": [
        {
            "recipient": "hana.sato@filtr-priklad.jp",
            "reply_code": "550",
            "diagnostic": "-------server message 550 unknown user <hana.sato@filtr-priklad.jp>"
            " (SMTP command: DATA)",
        }
    ],
    "exim-dsn-after-ehlo.eml": [
        {
            "recipient": "peter.horvath@partner-priklad.sk",
            "diagnostic": "SMTP error from remote mail server after EHLO smtp.firma-priklad.sk:"
            " 550 Rejected",
        }
    ],
    # Exim's local delivery: the DSN names a path, the text names the address and reason.
    "exim-local-delivery-full.eml": [
        {
            "recipient": "lucie.novotna@hosting-priklad.cz",
            "status": "5.0.0",
            "diagnostic": "save to /var/mail/vhosts/hosting-priklad.cz/lucie"
            " mailbox is full: retry timeout exceeded",
        }
    ],
    # No code at all: the reason sentence after the greeting is kept, not the greeting alone.
    "mailing-list-no-code.eml": [
        {
            "recipient": "spolek@konference-priklad.cz",
            "kind": Kind.HARD,
            "diagnostic": "Hello jiri.benes@firma-priklad.cz, We're writing to let you know"
            " that the group you tried to contact (spolek) may not exist, or you may not"
            " have permission to post messages to the group. Thanks, The group service",
        }
    ],
    # The DSN gives no Diagnostic-Code and no text layout fits: the report's words are kept.
    "dsn-empty-diagnostic-text-reason.eml": [
        {
            "recipient": "karel.dvorak@mobilni-priklad.cz",
            "status": "5.0.0",
            "reply_code": None,
            "diagnostic": "The user(s) account is disabled. <karel.dvorak@mobilni-priklad.cz>",
        }
    ],
    # Lotus Notes: the reason line stands above the address, in ISO-2022-JP (7-bit).
    "notes-reason-above-address.eml": [
        {
            "recipient": "hanako.sato@notes.firma-priklad.jp",
            "diagnostic": "ディレクトリのリストにありません",
        }
    ],
    # Domino writes ISO-2022-JP escapes into the charset-less delivery-status part.
    "domino-dsn-iso2022jp.eml": [
        {
            "recipient": "taro.sato@domino.firma-priklad.jp",
            "diagnostic": "ユーザー Sato (taro.sato@domino.firma-priklad.jp)"
            " は Domino ディレクトリには見つかりません。",
        }
    ],
    # V5 Sendmail sums the server's answer up as "Remote protocol error": the <<< line is kept.
    "sendmail-v5-protocol-error.eml": [
        {
            "recipient": "prof.horak@partner-priklad.cz",
            "reply_code": "550",
            "diagnostic": "554 <prof.horak@partner-priklad.cz>... Remote protocol error:"
            " 550 Insecure Mail Relay",
        }
    ],
    # The reply sits above a "Message details" block whose numbers are no reply codes.
    "gateway-error-message-below.eml": [
        {
            "recipient": "420777000111@sms-brana-priklad.cz",
            "status": "5.0.0",
            "reply_code": "550",
        }
    ],
    # An anchor inside a sentence: the sentence is the reason, not its tail.
    "interscan-reason-sentence.eml": [
        {
            "recipient": "ucitel@partnerska-skola.cz",
            "diagnostic": "Reason: Unable to deliver message to <ucitel@partnerska-skola.cz>"
            " (and other recipients in the same domain).",
        }
    ],
    # A session transcript ends with "221 2.0.0 Bye": the failure before it decides.
    "postfix-transcript-queue-error.eml": [
        {
            "recipient": "fakturace@firma-priklad.cz",
            "kind": Kind.SOFT,
            "status": "4.3.0",
            "reply_code": "451",
        }
    ],
    # The reason stands above "The following recipients ...:" and the address list.
    "reason-above-recipient-list.eml": [
        {
            "recipient": "martina.kucerova@mobil-operator-priklad.cz",
            "diagnostic": "Your message was not delivered within 0 days and 4 hours."
            " Remote host is not responding.",
        }
    ],
    # fml refuses a post to a members-only list: the list that refused is the recipient.
    "fml-not-a-member.eml": [
        {
            "recipient": "fotoklub@konference-priklad.cz",
            "diagnostic": "You are not a member of this mailing list"
            " <fotoklub@konference-priklad.cz>.",
        }
    ],
    # fml 8 (X-ML-Server, List-Software) drops a post it has seen before.
    "fml-loop-alert.eml": [
        {
            "recipient": "zahradkari@spolek-priklad.cz",
            "diagnostic": "Duplicated Message-ID in <zahradkari@spolek-priklad.cz>.",
        }
    ],
    # A post the list distributes carries fml's header too, and its article counter.
    "fml-list-post.eml": [{"recipient": None, "kind": Kind.NOT_BOUNCE}],
    # A bounce forwarded by a person: the forwarded bounce's recipient and returned message.
    "forwarded-apple-quoted-postfix.eml": [
        {
            "recipient": "ondrej.kucera@centrum.cz",
            "kind": Kind.HARD,
            "status": "5.1.1",
            "reply_code": "550",
            "reporting_mta": "mail.firma-priklad.cz",
            "original_message_id": "<brezen-2025.ondrej@firma-priklad.cz>",
        }
    ],
    "forwarded-thunderbird-qmail.eml": [
        {
            "recipient": "vera.bartosova@volny-priklad.cz",
            "status": "5.1.1",
            "diagnostic": "Sorry, no mailbox here by that name. (#5.1.1)",
            "original_message_id": "<objednavka-8812@eshop-priklad.cz>",
        }
    ],
    "forwarded-outlook-original-message.eml": [
        {
            "recipient": "lenka.sedlakova@partner-priklad.cz",
            "status": "5.1.1",
            "original_message_id": "<novinky.lenka@firma-priklad.cz>",
        }
    ],
    # Gmail's own "Address not found" names the address in a sentence: no known layout,
    # but a mailer daemon's message, so the last-resort reading applies inside the forward.
    "forwarded-gmail-address-not-found.eml": [
        {
            "recipient": "filip.urban@posta-priklad.cz",
            "status": "5.1.1",
            "reply_code": "550",
        }
    ],
    "reply-quoted-exim.eml": [
        {
            "recipient": "objednavky@stavebniny-priklad.cz",
            "status": "5.1.1",
            "remote_mta": "mx.stavebniny-priklad.cz",
            "original_message_id": "<poptavka-311@firma-priklad.cz>",
        }
    ],
    "forwarded-as-attachment-dsn.eml": [
        {
            "recipient": "radek.pokorny@email-priklad.cz",
            "status": "5.2.1",
            "campaign": "novinky-brezen",
            "date": "2025-03-10T07:58:41+01:00",
        }
    ],
    # A notice naming nobody around a complete bounce: the inner bounce's recipient.
    "bounce-inside-bounce.eml": [
        {
            "recipient": "pavla.jelinkova@skola-priklad.cz",
            "status": "5.1.1",
            "reply_code": "550",
            "original_message_id": "<zapis-jaro-2025.pavla@firma-priklad.cz>",
        }
    ],
    # An ordinary forward and an ordinary quoted reply stay what they are.
    "forwarded-ordinary-email.eml": [{"recipient": None, "kind": Kind.NOT_BOUNCE}],
    "reply-quoted-conversation.eml": [{"recipient": None, "kind": Kind.NOT_BOUNCE}],
    # A bounce whose returned message quotes another bounce keeps its own recipient.
    "dsn-original-quotes-a-bounce.eml": [
        {"recipient": "helpdesk@dodavatel-priklad.cz", "status": "5.2.2"}
    ],
    "notice-original-quotes-a-bounce.eml": [
        {"recipient": "reklamace@brana-priklad.cz", "diagnostic": "Unknown user"}
    ],
    "inline-dsn-text.eml": [
        {
            "recipient": "jana.dvorakova@tiscali.cz",
            "status": "5.2.1",
            "reply_code": "550",
            "reporting_mta": "smtp.tiscali.cz",
        }
    ],
}


class TestOwnSamples:
    """Every sample gives exactly the records in the table, with the fields the table names."""

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_sample(self, name: str) -> None:
        records = parse_message((SAMPLES / name).read_bytes())
        expected = EXPECTED[name]
        assert [r.recipient for r in records] == [e["recipient"] for e in expected]
        for record, want in zip(records, expected, strict=True):
            got = {key: getattr(record, key) for key in want}
            assert got == want

    def test_every_sample_is_in_the_table(self) -> None:
        assert sorted(p.name for p in SAMPLES.glob("*.eml")) == sorted(EXPECTED)


class TestRecordsAreUnplaced:
    """parse_message leaves source and message to the pipeline."""

    def test_source_and_message_are_none(self) -> None:
        for path in sorted(Path(SAMPLES).glob("*.eml")):
            for record in parse_message(path.read_bytes()):
                assert record.source is None
                assert record.message is None


class TestCampaignHeaders:
    """The campaign header list is a parameter: the caller decides which header names a campaign."""

    def test_custom_header_wins(self) -> None:
        data = (SAMPLES / "postfix-dsn-user-unknown.eml").read_bytes()
        (record,) = parse_message(data, campaign_headers=("List-Id",))
        assert record.campaign == "Novinky Firma Priklad <novinky.firma-priklad.cz>"

    def test_no_header_no_campaign(self) -> None:
        data = (SAMPLES / "postfix-dsn-user-unknown.eml").read_bytes()
        (record,) = parse_message(data, campaign_headers=())
        assert record.campaign is None


class TestExampleMailbox:
    """examples/bounces.mbox holds what users meet: hard, soft, complaint, auto-reply, delay."""

    def test_kinds(self) -> None:
        mbox = (TEST_DATA.parent.parent / "examples" / "bounces.mbox").read_bytes()
        messages = [m.partition(b"\n")[2] for m in mbox.split(b"\nFrom ") if m.strip()]
        kinds = [r.kind for data in messages for r in parse_message(data)]
        assert 10 <= len(messages) <= 15
        for kind in (Kind.HARD, Kind.SOFT, Kind.COMPLAINT, Kind.AUTO_REPLY, Kind.DELAYED):
            assert kind in kinds
