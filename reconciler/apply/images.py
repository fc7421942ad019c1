"""Images a plan needs, present before anything is created: a bad image changes nothing.

With ``pull = true`` the images are pulled again *before* planning (:func:`pull_images`),
and the IDs they now have become observed state: the diff replaces a container created
from an older image (reason ``image_updated``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.apply.progress import Progress
from reconciler.core.plan import Op, Plan
from reconciler.engine.engine import Engine
from reconciler.errors import EngineError, ImageUnavailableError
from reconciler.ui.logs import get_logger

_LAYER_DONE = ("Pull complete", "Already exists", "Download complete")

log = get_logger()


def ensure_images(engine: Engine, plan: Plan, progress: Progress) -> None:
    """Pull each missing image the plan's containers use (but not one the plan builds);
    fail naming the image."""
    built = {step.name for step in plan.steps if step.op == Op.BUILD_IMAGE}
    images = sorted(
        {
            str(step.desired.spec["Image"])
            for step in plan.steps
            if step.op == Op.CREATE_CONTAINER and step.desired is not None
        }
        - built
    )
    for image in images:
        if not engine.image_present(image):
            _pull(engine, image, progress, _unavailable)


def pull_images(
    engine: Engine, images: Iterable[str], progress: Progress
) -> tuple[tuple[str, str], ...]:
    """Pull each image again, present or not; (image, the ID it has now) for each. A
    failure names the image: the caller has changed nothing yet."""
    pulled = []
    for image in sorted(set(images)):
        image_id = _pull(engine, image, progress, _pull_failed)
        log.debug("image.pulled", image=image, id=image_id)
        pulled.append((image, image_id))
    return tuple(pulled)


def _pull(
    engine: Engine,
    image: str,
    progress: Progress,
    failure: Callable[[str, str], ImageUnavailableError],
) -> str:
    """Pull ``image`` with its layers as progress; the ID it has now, or ``failure``."""
    log.debug("image.pull", image=image)
    progress.note(f"pulling {image}")
    try:
        engine.pull(image, _layer_counter(image, progress))
        image_id = engine.image_id(image)
    except EngineError as err:
        raise failure(image, str(err)) from None
    if image_id is None:
        raise failure(image, "the pull reported no image")
    return image_id


def _pull_failed(image: str, why: str) -> ImageUnavailableError:
    return ImageUnavailableError(f"cannot pull image {image!r} ({why}); nothing was changed")


def _layer_counter(image: str, progress: Progress) -> Callable[[Mapping[str, Any]], None]:
    layers: dict[str, str] = {}

    def on_event(event: Mapping[str, Any]) -> None:
        if "id" in event and "status" in event:
            layers[str(event["id"])] = str(event["status"])
            progress.note(pull_summary(image, layers))

    return on_event


def _unavailable(image: str, why: str) -> ImageUnavailableError:
    return ImageUnavailableError(
        f"image {image!r} is not present locally and cannot be pulled ({why}); build or "
        "load it, or set `image`/`dind-image` to a local image (`booth doctor` lists every "
        "image that is missing)"
    )


def pull_summary(image: str, layers: dict[str, str]) -> str:
    """``pulling docker:dind: 3/7 layers`` from the per-layer statuses of a pull stream."""
    done = sum(1 for status in layers.values() if status.startswith(_LAYER_DONE))
    return f"pulling {image}: {done}/{len(layers)} layers"
