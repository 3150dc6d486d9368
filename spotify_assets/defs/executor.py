"""Every run in one process, whatever it selects (the job, or assets picked in the UI)."""

from dagster import Definitions, definitions, in_process_executor


@definitions
def executor() -> Definitions:
    """The in-process executor: both steps of a run share its Spotify client (what it learned
    about the app's access and the rate limit), and the client parallelizes requests itself."""
    return Definitions(executor=in_process_executor)
