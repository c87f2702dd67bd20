"""The simulator's commands: talk, say, render, dialog and nlu-eval."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from skill.cli.common import LOCALE_HELP, find_routine, library
from skill.simulator.dialog import ScriptError, run
from skill.simulator.driver import (
    Exchange,
    Simulator,
    SimulatorError,
    Transport,
    in_process,
    over_http,
)
from skill.simulator.envelopes import Session
from skill.simulator.speaker import Speaker, SpeechUnavailable, open_speaker
from skill.simulator.ssml_reader import Piece


def _transport(args: argparse.Namespace) -> Transport:
    return over_http(args.url) if getattr(args, "url", None) else in_process()


def _print_exchange(exchange: Exchange, explain: bool) -> None:
    if exchange.note:
        print(f"  ({exchange.note})")
    if explain and exchange.heard is not None:
        heard = exchange.heard
        print(f"  heard: {heard.kind} {heard.intent or ''}")
        for line in heard.explain:
            print(f"    {line}")
    request = exchange.request.get("request", {})
    if request.get("type") == "SessionEndedRequest":
        print(f"  [session ended: {request.get('reason')}]")
    if exchange.speech:
        print(f"coach: {exchange.speech}")
    for warning in exchange.warnings:
        print(f"  WARNING: {warning}")
    if exchange.end_session and request.get("type") != "SessionEndedRequest":
        print("  [session closed]")


def cmd_talk(args: argparse.Namespace) -> int:
    """Interactive session: type what you would say; the coach answers in text and speech."""
    speaker: Speaker | None = None
    if not args.text or args.save_audio:
        speaker, reason = open_speaker(speed=args.speed)
        if speaker is None:
            print(f"(text only: {reason})")
    simulator = Simulator(_transport(args), Session(locale=args.locale))
    print("Back Coach simulator. Say 'open back coach' to begin, 'exit' to end the session, Ctrl-D to quit.")
    turn = 0
    while True:
        try:
            line = input("you: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line:
            continue
        try:
            exchanges = simulator.say(line)
        except SimulatorError as exc:
            print(f"  ERROR: {exc}")
            continue
        for exchange in exchanges:
            _print_exchange(exchange, args.explain)
            if not exchange.pieces:
                continue
            turn += 1
            speaker = _voice(speaker, exchange.pieces, args, turn)


def _voice(speaker: Speaker | None, pieces: list[Piece], args: argparse.Namespace, turn: int) -> Speaker | None:
    """Save and/or play one answer; on failure say why once and carry on in text."""
    if speaker is None:
        return None
    try:
        if args.save_audio:
            path = Path(args.save_audio) / f"turn-{turn:03d}.wav"
            seconds = speaker.write_wav(pieces, path)
            print(f"  (saved {path}, {seconds:.1f}s)")
        if not args.text:
            speaker.play(pieces)
    except SpeechUnavailable as exc:
        print(f"(text only from now on: {exc})")
        return None
    return speaker


def _load_session(path: Path, locale: str | None) -> tuple[Session, float]:
    if not path.is_file():
        return Session(locale=locale or "en-US"), 0.0
    try:
        data = json.loads(path.read_text())
        session = Session(
            locale=locale or data["locale"],
            user_id=data["user_id"],
            device_id=data["device_id"],
            session_id=data.get("session_id"),
            attributes=data.get("attributes") or {},
            clock=datetime.fromisoformat(data["clock"]),
        )
        return session, float(data.get("speech_seconds", 0.0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SimulatorError(f"{path}: not a session file ({exc}); delete it to start afresh") from exc


def _save_session(path: Path, simulator: Simulator) -> None:
    session = simulator.session
    data = {
        "locale": session.locale, "user_id": session.user_id, "device_id": session.device_id,
        "session_id": session.session_id, "attributes": session.attributes,
        "clock": session.clock.isoformat(), "speech_seconds": simulator.speech_seconds,
    }
    path.write_text(json.dumps(data, indent=2))


def cmd_say(args: argparse.Namespace) -> int:
    """One turn; with --session the session and user persist in a file between calls."""
    try:
        if args.session:
            session, spoken = _load_session(Path(args.session), args.locale)
        else:
            session, spoken = Session(locale=args.locale or "en-US"), 0.0
        simulator = Simulator(_transport(args), session, speech_seconds=spoken)
        exchanges = simulator.say(args.utterance, args.wait)
    except SimulatorError as exc:
        print(f"backcoach: {exc}", file=sys.stderr)
        return 1
    if args.session:
        _save_session(Path(args.session), simulator)
    if not exchanges:
        print("backcoach: no session is open, so there was nothing to exit", file=sys.stderr)
        return 0
    if args.json:
        print(json.dumps(exchanges[-1].summary()))
    else:
        for exchange in exchanges:
            _print_exchange(exchange, args.explain)
    return 0


def _awaiting(exchange: Exchange) -> str | None:
    return ((exchange.response.get("sessionAttributes") or {}).get("player") or {}).get("awaiting")


def routine_pieces(routine_title: str, locale: str = "en-US", progress: bool = True, steps: int = 0) -> list[Piece]:
    """Everything a listener hears when the skill narrates a routine hands-free, as speech, silence and chimes."""
    simulator = Simulator(in_process(), Session(locale=locale))
    exchange = simulator.say(f"ask back coach to start the {routine_title}")[-1]
    pieces: list[Piece] = list(exchange.pieces)
    if _awaiting(exchange) == "safety":
        exchange = simulator.say("yes")[-1]
        pieces += exchange.pieces
    while _awaiting(exchange) == "continue":
        last = (exchange.response["sessionAttributes"]["player"].get("last") or {}).get("after")
        if progress:
            _progress(last or steps, steps)
        exchange = simulator.say("keep going")[-1]
        pieces += exchange.pieces
    if progress:
        _progress(steps, steps)
        print(file=sys.stderr)
    return pieces


def cmd_render(args: argparse.Namespace) -> int:
    """The whole routine as the skill narrates it hands-free, to one WAV file (or every routine, to a folder)."""
    if args.routine == "all":
        routines = list(library())
    else:
        routine = find_routine(args.routine)
        if routine is None:
            return 2
        routines = [routine]
    speaker, reason = open_speaker(speed=args.speed)
    if speaker is None:
        print(f"backcoach: cannot render audio: {reason}", file=sys.stderr)
        return 1
    print(f"{'routine':<28} {'planned':>9} {'rendered':>9} {'off':>6}  worst silence error")
    for routine in routines:
        pieces = routine_pieces(routine.title, args.locale, progress=len(routines) == 1, steps=len(routine.steps))
        out = Path(args.out) / f"{routine.id}.wav" if len(routines) > 1 else Path(args.out)
        report = speaker.write_wav_with_report(pieces, out)
        off = (report.rendered - report.planned) / report.planned * 100 if report.planned else 0.0
        print(f"{routine.id:<28} {report.planned / 60:7.2f} m {report.rendered / 60:7.2f} m {off:+5.1f}%  "
              f"{report.worst_silence:.2f} s   ({out})")
    return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] step {done}/{total}", end="", file=sys.stderr, flush=True)


def cmd_dialog(args: argparse.Namespace) -> int:
    """Run conversation scripts; one line each, then 'N passed, N failed'."""
    transport = _transport(args)
    passed = failed = 0
    for name in args.files:
        try:
            outcome = run(Path(name), transport)
        except ScriptError as exc:
            print(f"FAIL {name}: {exc}")
            failed += 1
            continue
        if outcome.passed:
            passed += 1
            print(f"PASS {outcome.name}")
        else:
            failed += 1
            print(f"FAIL {outcome.name}: {outcome.failure}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_nlu_eval(args: argparse.Namespace) -> int:
    """Score annotation sets end to end; exit 1 when any category falls below its threshold."""
    from skill.simulator.evaluation import EvaluationError, describe, evaluate

    failed = False
    for name in args.files:
        try:
            report = evaluate(Path(name), _transport(args), getattr(args, "locale", "en-US"))
        except EvaluationError as exc:
            print(f"backcoach: {exc}", file=sys.stderr)
            return 2
        for line in describe(report, misses=not args.quiet):
            print(line)
        for category in report.categories():
            right, total = report.accuracy(category)
            least = args.safety_threshold if category in ("red flags", "out of scope") else args.threshold
            if total and right / total < least:
                print(f"BELOW THRESHOLD: {report.name} {category} {right / total:.1%} < {least:.0%}")
                failed = True
    return 1 if failed else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register talk, say, render, dialog and nlu-eval on the main parser."""
    talk = sub.add_parser("talk", help="talk to the skill: type what you would say")
    talk.add_argument("--text", action="store_true", help="text only, no speech")
    talk.add_argument("--save-audio", metavar="DIR", help="write each answer to DIR/turn-NNN.wav")
    talk.add_argument("--speed", type=float, default=1.0, help="shorten silences by this factor for quick listening")
    talk.add_argument("--explain", action="store_true", help="show how each phrase was understood")
    talk.add_argument("--url", help="talk to a running skill endpoint instead of in-process")
    talk.set_defaults(func=cmd_talk)
    say = sub.add_parser("say", help="one turn (script a conversation with --session)")
    say.add_argument("utterance")
    say.add_argument("--session", metavar="FILE", help="keep the session and user in this file between calls")
    say.add_argument("--json", action="store_true", help="print the request and response as JSON")
    say.add_argument("--wait", type=float, help="seconds after the last answer (default: once it has been heard)")
    say.add_argument("--explain", action="store_true")
    say.add_argument("--url")
    say.set_defaults(func=cmd_say)
    render = sub.add_parser("render", help="the whole routine, narrated hands-free, to a WAV file, with its timing")
    render.add_argument("routine", help="a routine id, or 'all' to write every routine to the --out folder")
    render.add_argument("--out", default="routine.wav", help="the WAV file (a folder with 'all')")
    render.add_argument("--speed", type=float, default=1.0)
    render.set_defaults(func=cmd_render)
    dialog = sub.add_parser("dialog", help="run conversation scripts")
    dialog.add_argument("files", nargs="+")
    dialog.add_argument("--url")
    dialog.set_defaults(func=cmd_dialog)
    evaluation = sub.add_parser("nlu-eval", help="score annotation sets (Amazon's NLU CSV format) end to end")
    evaluation.add_argument("files", nargs="+", metavar="FILE.csv")
    evaluation.add_argument("--threshold", type=float, default=0.0,
                            help="least accuracy (0 to 1) for commands and questions; exit 1 below it")
    evaluation.add_argument("--safety-threshold", type=float, default=1.0,
                            help="least share of red flags given urgent advice and out-of-scope requests declined")
    evaluation.add_argument("--quiet", action="store_true", help="figures only, no list of misses")
    evaluation.add_argument("--url")
    evaluation.set_defaults(func=cmd_nlu_eval)
    for parser in (talk, say, render, evaluation):
        parser.add_argument("--locale", default=argparse.SUPPRESS, help=LOCALE_HELP)
