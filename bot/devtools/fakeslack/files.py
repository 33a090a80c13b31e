"""Files the bot uploads, kept as Slack keeps them: announced (`files.getUploadURLExternal`),
their bytes posted to the upload URL, then completed into channels
(`files.completeUploadExternal`), and described as Slack's file objects.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from bot.devtools.fakeslack.calls import SlackCall
from bot.devtools.fakeslack.workspace import BOT_USER_ID, TEAM_DOMAIN


@dataclass
class _Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    uploaded: bool = False
    completed: bool = False
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    created: int = 0


class UploadedFiles:
    """The uploads LocalSlack has been told of, and the bytes it received (`data`, by file ID).

    File IDs are drawn from `counter`, the one LocalSlack numbers everything with.
    """

    def __init__(self, counter: Iterator[int]) -> None:
        self.data: dict[str, bytes] = {}
        self._uploads: dict[str, _Upload] = {}
        self._counter = counter

    def get_upload_url(self, call: SlackCall, *, base: str) -> dict[str, Any]:
        """`files.getUploadURLExternal`: a file ID and the URL to post its bytes to."""
        filename = call.body.get("filename")
        length = call.body.get("length")
        if not filename or length is None or not str(length).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._counter):08d}"
        self._uploads[file_id] = _Upload(
            file_id=file_id,
            filename=str(filename),
            length=int(str(length)),
            alt_txt=_opt_str(call.body.get("alt_txt")),
            snippet_type=_opt_str(call.body.get("snippet_type")),
        )
        return {"ok": True, "upload_url": f"{base}/upload/{file_id}", "file_id": file_id}

    def receive(self, file_id: str, data: bytes) -> str | None:
        """Keep the bytes posted to `file_id`'s upload URL; its file name, None if unknown."""
        upload = self._uploads.get(file_id)
        if upload is None:
            return None
        self.data[file_id] = data
        upload.uploaded = True
        return upload.filename

    def complete(self, call: SlackCall, *, base: str) -> dict[str, Any]:
        """`files.completeUploadExternal`: the uploaded files shared in the call's channels."""
        entries = call.body.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        channels = [
            str(c)
            for c in [call.body.get("channel_id"), *str(call.body.get("channels") or "").split(",")]
            if c
        ]
        uploads: list[_Upload] = []
        for entry in entries:
            upload = self._uploads.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if upload is None or not upload.uploaded:
                return {"ok": False, "error": "file_not_found"}
            uploads.append(upload)
        for upload, entry in zip(uploads, entries, strict=True):
            upload.completed = True
            upload.title = str(entry.get("title") or upload.filename)
            upload.channels = channels
            upload.created = int(time.time())
        call.channel = channels[0] if channels else None
        return {"ok": True, "files": [self._file_object(u, base) for u in uploads]}

    def info(self, call: SlackCall, *, base: str) -> dict[str, Any]:
        """`files.info`, for a completed upload."""
        upload = self._uploads.get(str(call.body.get("file") or ""))
        if upload is None or not upload.completed:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_object(upload, base)}

    def file_object(self, file_id: str, *, base: str) -> dict[str, Any]:
        """The file object Slack would return for `file_id`; KeyError if never announced."""
        upload = self._uploads.get(file_id)
        if upload is None:
            raise KeyError(file_id)
        return self._file_object(upload, base)

    def _file_object(self, upload: _Upload, base: str) -> dict[str, Any]:
        name = upload.filename
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return {
            "id": upload.file_id,
            "created": upload.created,
            "timestamp": upload.created,
            "name": name,
            "title": upload.title or name,
            "mimetype": mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": BOT_USER_ID,
            "user_team": "T0001",
            "size": len(self.data.get(upload.file_id, b"")),
            "is_external": False,
            "is_public": True,
            "url_private": f"{base}/files/{upload.file_id}/{name}",
            "url_private_download": f"{base}/files/{upload.file_id}/{name}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload.file_id}/{name}",
            "alt_txt": upload.alt_txt,
            "channels": list(upload.channels),
            "groups": [],
            "ims": [],
        }


async def read_upload(request: web.Request) -> bytes:
    """The file bytes of an upload: a raw body (what slack-sdk sends) or a multipart file part."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.filename is not None:
                return bytes(await part.read())
        return b""
    return await request.read()


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
