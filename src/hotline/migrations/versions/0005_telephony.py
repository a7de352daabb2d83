"""Tables of the telephony capability.

Owned by hotline.telephony; edit this file while the capability is young, add a new revision once a
release has shipped.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
