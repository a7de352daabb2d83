"""Commands of hotline.telephony."""

import typer

app = typer.Typer(no_args_is_help=True)
prompts_app = typer.Typer(no_args_is_help=True, help="语音提示")
