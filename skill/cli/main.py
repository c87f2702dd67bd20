"""The `backcoach` command: the routine commands (list, plan, demo, models, serve), the parser and the entry point."""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from skill.cli.common import LOCALE_HELP, find_routine, library
from skill.cli.simulator import add_commands
from skill.core.dryrun import describe
from skill.core.phrases import Phrasebook, Voice
from skill.core.planner import Planner, PlanOptions, clamp_speech_rate
from skill.core.program import Program, fit
from skill.core.routines import Library
from skill.core.settings import PACE_MAX, PACE_MIN, SPEECH_RATE_MAX, SPEECH_RATE_MIN, Verbosity
from skill.core.ssml import chunk, speak
from skill.core.timeline import SpeechRate
from skill.dependencies import MissingDependency


def cmd_list(args: argparse.Namespace) -> int:
    """Print every routine with its length, areas and equipment (with --timing, when its first movement cue comes)."""
    routines = library()
    book = Phrasebook.load(args.locale)
    if getattr(args, "timing", False):
        return _timing(routines, book)
    planner = Planner(Voice(book, random.Random(0)))
    for routine in routines:
        minutes = planner.measure(Program.of(routine)) / 60
        print(
            f"{routine.id:<28} {minutes:4.1f} min  {routine.title}"
            f"  [areas: {', '.join(routine.areas)}; equipment: {', '.join(routine.equipment)}]"
        )
    return 0


def _timing(routines: Library, book: Phrasebook) -> int:
    """Per routine: planned length as a new listener hears it, and seconds to the first movement cue."""
    from skill.core.player import Player

    player = Player(routines)
    length = player.length(Voice(book, random.Random(0)))
    print(f"{'routine':<28} {'planned':>8}  first movement cue: first-timer / returning (worst of 20 phrasings)")
    for routine in routines:
        first = max(player.first_movement(Voice(book, random.Random(n)), routine, returning=False) for n in range(20))
        again = max(player.first_movement(Voice(book, random.Random(n)), routine, returning=True) for n in range(20))
        print(f"{routine.id:<28} {length(routine) / 60:6.2f} m  {first:5.1f} s / {again:5.1f} s")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the dry run (or SSML) of one routine."""
    routine = find_routine(args.routine)
    if routine is None:
        return 2
    options = PlanOptions(
        Verbosity(args.verbosity), SpeechRate(args.words_per_second), args.chimes, clamp_speech_rate(args.speech_rate)
    )
    planner = Planner(Voice(Phrasebook.load(args.locale), random.Random(args.seed)), options)
    program = Program.of(routine, args.pace)
    if args.minutes:
        program = fit(program, args.minutes * 60, planner.measure)
    timeline = planner.compile(program, intro=True)
    if args.ssml:
        for part in chunk(timeline):
            print(speak(part.body))
    else:
        print(describe(timeline, program))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """List the routines, then show the dry run of one."""
    cmd_list(args)
    print()
    args.routine = args.routine or library().routines[0].id
    return cmd_plan(args)


def cmd_models(args: argparse.Namespace) -> int:
    """Regenerate interaction_models/<locale>.json from the source and the routines."""
    from skill import interaction_model as models

    for path in models.write_all():
        print(f"wrote {path}")
    return 0


def cmd_heard(args: argparse.Namespace) -> int:
    """Collect the development halves of the blind sets into data/faq/heard.yaml and data/simulator/heard.yaml."""
    from skill import heard

    try:
        written = heard.write(Path(args.sets) if args.sets else heard.EVAL_DIR)
    except heard.HeardError as exc:
        print(f"backcoach: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the skill over HTTP with Flask (development server; use gunicorn in production)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from skill.web import create_app

    app = create_app(verify=False if args.no_verify else None)
    app.run(host=args.host, port=args.port)
    return 0


def _plan_arguments(parser: argparse.ArgumentParser, routine_required: bool) -> None:
    parser.add_argument("routine", nargs=None if routine_required else "?", help="routine id (see `backcoach list`)")
    parser.add_argument("--pace", type=float, default=1.0, help=f"multiplier for holds and tempo ({PACE_MIN} to {PACE_MAX})")
    parser.add_argument("--verbosity", choices=[v.value for v in Verbosity], default="full")
    parser.add_argument("--minutes", type=float, help="fit the routine to about this many minutes")
    parser.add_argument("--seed", type=int, default=0, help="seed for the choice of phrasings")
    parser.add_argument("--words-per-second", type=float, default=SpeechRate().words_per_second)
    parser.add_argument("--ssml", action="store_true", help="print the SSML responses instead of the dry run")
    parser.add_argument("--chimes", action="store_true", help="chimes at begin, switch sides and release")
    parser.add_argument(
        "--speech-rate", type=float, default=1.0, help=f"how fast the coach talks ({SPEECH_RATE_MIN} to {SPEECH_RATE_MAX}), apart from the pace"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="backcoach", description="Back Coach: a voice coach for self-massage and stretching.")
    parser.add_argument("--locale", default=None, help=LOCALE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list the routines")
    listing.add_argument("--timing", action="store_true", help="planned length and seconds to the first movement cue")
    listing.set_defaults(func=cmd_list)
    plan = sub.add_parser("plan", help="dry run: what would be said, when, and for how long")
    _plan_arguments(plan, routine_required=True)
    plan.set_defaults(func=cmd_plan)
    demo = sub.add_parser("demo", help="list routines and show one")
    _plan_arguments(demo, routine_required=False)
    demo.set_defaults(func=cmd_demo)
    sub.add_parser("models", help="regenerate the interaction models").set_defaults(func=cmd_models)
    heard = sub.add_parser("heard", help="collect what people said in the development sets into data/")
    heard.add_argument("--sets", help="the folder of evaluation sets (default: tests/data/eval)")
    heard.set_defaults(func=cmd_heard)
    serve = sub.add_parser("serve", help="serve the skill over HTTP (POST /, GET /health)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--no-verify", action="store_true", help="skip Alexa request verification (local testing only)")
    serve.set_defaults(func=cmd_serve)
    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `backcoach` console script."""
    args = build_parser().parse_args(argv)
    if args.command != "say":
        args.locale = args.locale or "en-US"
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # the reader went away (`backcoach list | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except MissingDependency as exc:
        print(f"backcoach: {exc}", file=sys.stderr)
        return 1

