"""The knowledge base on the central server: articles stored in `central_kb_article`, managed
by administrators (`/api/v1/kb`, admin token) or imported from Markdown files
(`classroom-support central kb-import DIR`), and pulled down by laptops for offline use.

Every edit or deletion (a tombstone) takes the next server sequence number inside the same
transaction, under the store's counter lock, exactly like course sessions: a laptop's pull
cursor then covers articles too. Re-importing unchanged articles writes nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update

from classroom_support.central import models as m
from classroom_support.central.auth import hash_token, new_token
from classroom_support.central.schemas import ErrorBody
from classroom_support.central.storable import NUL_REASON, holds_nul
from classroom_support.central.store import CentralStore, NotFound, StoreError
from classroom_support.kb import (
    MAX_BODY,
    MAX_SLUG,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    Article,
    ArticleError,
    check_article,
    search,
)
from classroom_support.syncwire import iso

FIELDS = ("title", "title_ar", "tags", "body", "body_ar")


@dataclass(frozen=True)
class StoredArticle:
    """An article as the server keeps it (what pages render and pulls carry)."""

    id: str
    slug: str
    title: str
    title_ar: str
    tags: tuple[str, ...]
    body: str
    body_ar: str
    updated_at: Any
    deleted: bool
    seq: int

    def article(self) -> Article:
        return Article(self.slug, self.title, self.title_ar, self.tags, self.body, self.body_ar)

    def title_in(self, language: str) -> str:
        return self.article().title_in(language)

    def body_in(self, language: str) -> str:
        return self.article().body_in(language)


def _stored(row: Any) -> StoredArticle:
    return StoredArticle(
        id=row.id,
        slug=row.slug,
        title=row.title,
        title_ar=row.title_ar,
        tags=tuple(t for t in row.tags.split(",") if t),
        body=row.body,
        body_ar=row.body_ar,
        updated_at=row.updated_at,
        deleted=bool(row.deleted),
        seq=int(row.seq),
    )


class CentralKnowledgeBase:
    """Articles and KB administrators, on the central store's engine and sequence."""

    def __init__(self, store: CentralStore) -> None:
        self.store = store

    # ---- reads

    def articles(self, *, include_deleted: bool = False) -> list[StoredArticle]:
        q = select(m.kb_articles).order_by(m.kb_articles.c.slug)
        if not include_deleted:
            q = q.where(m.kb_articles.c.deleted.is_(False))
        with self.store.read() as conn:
            return [_stored(r) for r in conn.execute(q)]

    def get(self, slug: str) -> StoredArticle | None:
        with self.store.read() as conn:
            row = conn.execute(
                select(m.kb_articles).where(
                    m.kb_articles.c.slug == slug, m.kb_articles.c.deleted.is_(False)
                )
            ).first()
        return _stored(row) if row is not None else None

    def search(self, query: str) -> list[StoredArticle]:
        return search(self.articles(), query)

    # ---- writes

    def put_many(self, articles: Sequence[Article], actor: str) -> dict[str, list[str]]:
        """Add or update articles by slug in one transaction; unchanged ones are left alone.
        Raises ArticleError (nothing written) if any article is invalid."""
        checked = [check_article(a) for a in articles]
        for article in checked:
            if holds_nul(dataclasses.astuple(article)):
                raise ArticleError(f"{article.slug}: {NUL_REASON}")
        outcome: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
        now = self.store.clock.now()
        with self.store.write() as conn:
            head = self.store._lock_head(conn)
            for article in checked:
                values = {
                    "title": article.title,
                    "title_ar": article.title_ar,
                    "tags": ",".join(article.tags),
                    "body": article.body,
                    "body_ar": article.body_ar,
                }
                row = conn.execute(
                    select(m.kb_articles).where(m.kb_articles.c.slug == article.slug)
                ).first()
                if (
                    row is not None
                    and not row.deleted
                    and all(getattr(row, k) == v for k, v in values.items())
                ):
                    outcome["unchanged"].append(article.slug)
                    continue
                head += 1
                stamp = {"updated_at": now, "deleted": False, "seq": head, "updated_by": actor}
                if row is None:
                    conn.execute(
                        insert(m.kb_articles).values(
                            id=str(uuid.uuid4()), slug=article.slug, **values, **stamp
                        )
                    )
                    outcome["added"].append(article.slug)
                else:
                    conn.execute(
                        update(m.kb_articles)
                        .where(m.kb_articles.c.id == row.id)
                        .values(**values, **stamp)
                    )
                    outcome["updated"].append(article.slug)
            self.store._set_head(conn, head)
        return outcome

    def put(self, article: Article, actor: str) -> StoredArticle:
        self.put_many([article], actor)
        found = self.get(article.slug.strip())
        assert found is not None
        return found

    def delete(self, slug: str, actor: str) -> None:
        """A tombstone: the row stays (with a new sequence number) so laptops drop it too."""
        with self.store.write() as conn:
            row = conn.execute(
                select(m.kb_articles).where(
                    m.kb_articles.c.slug == slug, m.kb_articles.c.deleted.is_(False)
                )
            ).first()
            if row is None:
                raise NotFound("no_article", f"no article {slug[:80]!r}")
            head = self.store._lock_head(conn) + 1
            conn.execute(
                update(m.kb_articles)
                .where(m.kb_articles.c.id == row.id)
                .values(deleted=True, seq=head, updated_at=self.store.clock.now(), updated_by=actor)
            )
            self.store._set_head(conn, head)

    # ---- administrators

    def add_admin(self, name: str) -> tuple[str, str]:
        """A KB administrator: returns (id, token); the token is shown once, stored hashed."""
        token = new_token()
        admin_id = str(uuid.uuid4())
        with self.store.write() as conn:
            conn.execute(
                insert(m.admins).values(
                    id=admin_id,
                    name=name.strip()[:200] or "administrator",
                    token_hash=hash_token(token),
                    created_at=self.store.clock.now(),
                    revoked=False,
                )
            )
        return admin_id, token

    def admins(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            return [
                {"id": r.id, "name": r.name, "created_at": iso(r.created_at), "revoked": r.revoked}
                for r in conn.execute(select(m.admins).order_by(m.admins.c.created_at))
            ]

    def revoke_admin(self, admin_id: str) -> None:
        with self.store.write() as conn:
            done = conn.execute(
                update(m.admins).where(m.admins.c.id == admin_id).values(revoked=True)
            )
        if done.rowcount == 0:
            raise NotFound("no_admin", f"no administrator {admin_id}")

    def authenticate_admin(self, token: str) -> str | None:
        """The administrator's name for a valid, unrevoked token, else None."""
        if not token or len(token) > 512:
            return None
        with self.store.read() as conn:
            row = conn.execute(
                select(m.admins).where(m.admins.c.token_hash == hash_token(token))
            ).first()
        if row is None or row.revoked:
            return None
        return str(row.name)


# --------------------------------------------------------------------------- the API

admin_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="a KB administrator token printed by `classroom-support central add-admin`",
)


def _kb(request: Request) -> CentralKnowledgeBase:
    return CentralKnowledgeBase(request.app.state.store)


def require_admin(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(admin_scheme),  # noqa: B008
) -> str:
    """FastAPI dependency: the administrator whose token is in `Authorization`, or 401.
    Device tokens are not accepted: a hall laptop reads the KB, it does not edit it."""
    token = credentials.credentials if credentials is not None else ""
    name = _kb(request).authenticate_admin(token)
    if name is None:
        raise HTTPException(
            status_code=401,
            detail={
                "code": "unauthorized",
                "message": "a valid KB administrator token is required",
            },
            headers={"WWW-Authenticate": "Bearer"},
        )
    return name


AdminDep = Annotated[str, Depends(require_admin)]
SlugPath = Annotated[str, Path(min_length=1, max_length=MAX_SLUG)]

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "the article is not valid (see message)"},
    401: {"model": ErrorBody, "description": "no valid administrator token"},
    404: {"model": ErrorBody, "description": "no such article"},
    413: {"model": ErrorBody, "description": "request body too large"},
    422: {"model": ErrorBody, "description": "malformed request"},
    503: {"model": ErrorBody, "description": "busy; retry after the Retry-After header"},
}


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(default="", max_length=MAX_TITLE)
    title_ar: str = Field(default="", max_length=MAX_TITLE)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    body: str = Field(default="", max_length=MAX_BODY)
    body_ar: str = Field(default="", max_length=MAX_BODY)


class ArticleOut(BaseModel):
    id: str
    slug: str
    title: str
    title_ar: str
    tags: list[str]
    body: str
    body_ar: str
    updated_at: str
    deleted: bool
    seq: int


class ArticleList(BaseModel):
    articles: list[ArticleOut]


class Deleted(BaseModel):
    slug: str
    deleted: bool = True


def _out(article: StoredArticle) -> dict[str, Any]:
    return {
        "id": article.id,
        "slug": article.slug,
        "title": article.title,
        "title_ar": article.title_ar,
        "tags": list(article.tags),
        "body": article.body,
        "body_ar": article.body_ar,
        "updated_at": iso(article.updated_at),
        "deleted": article.deleted,
        "seq": article.seq,
    }


def _refuse(exc: StoreError) -> HTTPException:
    return HTTPException(status_code=exc.status, detail={"code": exc.code, "message": exc.message})


def _text_ok(*values: str) -> None:
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise HTTPException(
                status_code=422, detail={"code": "bad_text", "message": "text is not valid UTF-8"}
            ) from None


router = APIRouter(prefix="/api/v1/kb", tags=["kb"])


@router.get(
    "",
    response_model=ArticleList,
    responses={k: v for k, v in RESPONSES.items() if k in (401, 422, 503)},
    summary="Every article (administrators)",
)
def list_articles(request: Request, _admin: AdminDep) -> dict[str, Any]:
    return {"articles": [_out(a) for a in _kb(request).articles()]}


@router.get(
    "/{slug}",
    response_model=ArticleOut,
    responses={k: v for k, v in RESPONSES.items() if k in (401, 404, 422, 503)},
    summary="One article (administrators)",
)
def get_article(slug: SlugPath, request: Request, _admin: AdminDep) -> dict[str, Any]:
    found = _kb(request).get(slug)
    if found is None:
        raise HTTPException(
            status_code=404, detail={"code": "no_article", "message": "no such article"}
        )
    return _out(found)


@router.put(
    "/{slug}",
    response_model=ArticleOut,
    responses=RESPONSES,
    summary="Add or replace an article; it reaches laptops on their next sync",
)
def put_article(
    slug: SlugPath, body: ArticleIn, request: Request, admin: AdminDep
) -> dict[str, Any]:
    _text_ok(slug, body.title, body.title_ar, body.body, body.body_ar, *body.tags)
    if any(len(t) > MAX_TAG for t in body.tags):
        raise HTTPException(
            status_code=400,
            detail={"code": "bad_article", "message": f"tags: at most {MAX_TAG} characters each"},
        )
    article = Article(slug, body.title, body.title_ar, tuple(body.tags), body.body, body.body_ar)
    try:
        stored = _kb(request).put(article, actor=f"admin:{admin}")
    except ArticleError as exc:
        raise HTTPException(
            status_code=400, detail={"code": "bad_article", "message": str(exc)}
        ) from None
    return _out(stored)


@router.delete(
    "/{slug}",
    response_model=Deleted,
    responses={k: v for k, v in RESPONSES.items() if k in (401, 404, 422, 503)},
    summary="Delete an article (laptops drop it on their next sync)",
)
def delete_article(slug: SlugPath, request: Request, admin: AdminDep) -> dict[str, Any]:
    try:
        _kb(request).delete(slug, actor=f"admin:{admin}")
    except StoreError as exc:
        raise _refuse(exc) from None
    return {"slug": slug, "deleted": True}
