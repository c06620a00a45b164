"""Large pushes run in a background thread; the client polls the push record meanwhile."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from service.errors import DomainError
from service.services.push.intake import ReceivedFile
from service.services.push.run import Publisher, PushOptions, process_push

log = logging.getLogger(__name__)


def push_in_background(
    engine: Engine, push_id: str, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions, max_bytes: int,
) -> threading.Thread:
    """Process the started push `push_id` in a new thread, which deletes `received` after.

    Its outcome, success or failure, is in the push record. A process stopped meanwhile
    leaves the push running; `mark_interrupted` marks it incomplete at the next start.
    """

    def work() -> None:
        try:
            process_push(
                engine, push_id, publisher=publisher, received=received, options=options,
                max_bytes=max_bytes,
            )
        except DomainError as error:  # recorded in the push (e.g. an unreadable file)
            log.info("push %s ended with %s: %s", push_id, error.code, error.detail)
        except Exception:
            log.exception("push %s failed", push_id)
        finally:
            received.discard()

    # A daemon: stopping the service does not wait for the push (see above).
    thread = threading.Thread(target=work, name=f"push-{push_id}", daemon=True)
    thread.start()
    return thread
