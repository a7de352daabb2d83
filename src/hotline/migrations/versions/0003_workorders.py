"""Tables of the workorders capability.

Owned by hotline.workorders; edit this file while the capability is young, add a new revision once a
release has shipped.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
