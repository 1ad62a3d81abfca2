"""The site's own wording in each supported language (digest wording is in newsletter.i18n)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from newsletter.i18n import DEFAULT_LANGUAGE

LANGUAGE_NAMES = {"en": "English", "zh-TW": "繁體中文"}

_WORDING = {
    "en": {
        "skip_link": "Skip to content",
        "language_switch": "Language",
        "nav_home": "Subscribe",
        "signup_title": "Get the daily AI news digest",
        "signup_intro": (
            "One email a day per topic: the day's news, summarised by AI, with every source "
            "linked. Free, no account, and you can leave with one click."
        ),
        "email_label": "Email address",
        "email_hint": "We first send a confirmation link to this address.",
        "topics_legend": "Topics",
        "language_legend": "Language of the digest",
        "honeypot_label": "Leave this field empty",
        "subscribe_button": "Subscribe",
        "no_topics": "There are no topics to subscribe to yet.",
        "archive_heading": "Past digests",
        "check_title": "Check your inbox",
        "check_body": (
            "If this address can receive our digest, a confirmation link is on its way. "
            "Open it within {days} days to start your subscription; nothing is sent until you "
            "confirm."
        ),
        "check_resend": "No email after a few minutes? Look in your spam folder, or",
        "check_resend_link": "ask for a new confirmation link",
        "resend_title": "Get a new confirmation link",
        "resend_intro": (
            "Enter the address you signed up with. If it is waiting for confirmation, we send "
            "a new link (at most once every {minutes} minutes)."
        ),
        "resend_button": "Send a new link",
        "confirm_title": "Confirm your subscription",
        "confirm_intro": "Confirm that {email} should receive the daily digest of: {topics}.",
        "confirm_button": "Confirm my subscription",
        "confirmed_title": "You are subscribed",
        "confirmed_body": "Welcome! We sent you a welcome email; your first digest comes tomorrow.",
        "nothing_to_confirm_title": "Nothing to confirm",
        "nothing_to_confirm_body": (
            "This subscription is no longer waiting for confirmation. To subscribe again, "
            "use the signup form."
        ),
        "link_expired_title": "This link has expired",
        "link_expired_body": (
            "Confirmation links work for {days} days. Enter your address below and we send "
            "you a new one."
        ),
        "link_invalid_title": "This link is not valid",
        "link_invalid_body": (
            "The link may have been cut off or changed. Copy the whole address from the "
            "email, or ask for a new link below."
        ),
        "fresh_link_title": "This link does not work any more",
        "fresh_link_body": (
            "It may have been cut off when it was copied, or it belongs to data that was "
            "deleted. Enter your address and, if it is on our list, we email you fresh links "
            "to your preferences and to unsubscribe."
        ),
        "fresh_link_form_title": "Get fresh links",
        "fresh_link_button": "Email me fresh links",
        "fresh_link_sent_title": "Check your inbox",
        "fresh_link_sent_body": (
            "If this address is on our list, an email with fresh links is on its way "
            "(at most one every {minutes} minutes)."
        ),
        "privacy_link": "Privacy",
        "privacy_title": "Privacy",
        "privacy_intro": (
            "{site} keeps as little about you as it can to send you the digest, and nothing "
            "to follow what you read."
        ),
        "privacy_stored_heading": "What we store",
        "privacy_stored_address": "Your email address.",
        "privacy_stored_choices": (
            "Your topics, language and pause setting, whether you confirmed or unsubscribed, "
            "and when."
        ),
        "privacy_stored_deliveries": (
            "For each digest: whether it was sent to you, and when (so none is sent twice)."
        ),
        "privacy_kept_heading": "For how long",
        "privacy_kept_body": (
            "As long as you are subscribed. After you unsubscribe we keep it, so that you can "
            "come back with one click, until you delete it."
        ),
        "privacy_kept_after": (
            "When you delete your data, all of it goes at once, and so does every link we "
            "ever sent you. We keep only a keyed hash of your address (not the address), "
            "which tells us that the address asked to be forgotten. If an address bounces or "
            "a mailbox reports our email as spam, we keep the address on a list we never "
            "email again."
        ),
        "privacy_tracking_heading": "No tracking",
        "privacy_tracking_body": (
            "Our emails have no tracking pixels, no images from our server and no "
            "redirecting links: a link goes straight to the news site. This site sets one "
            "cookie, to protect its forms and remember your language, and uses no analytics."
        ),
        "privacy_rights_heading": "Download or delete your data",
        "privacy_rights_body": (
            "Every email we send has a link to your preferences. There you can download "
            "everything we hold about you, or delete it."
        ),
        "privacy_rights_lost": "No email to hand?",
        "privacy_contact_heading": "Who we are",
        "preferences_title": "Your subscription",
        "preferences_intro": "Settings for {email}.",
        "paused_label": "Pause all digests for now",
        "paused_hint": "You stay subscribed but receive nothing until you untick this.",
        "save_button": "Save preferences",
        "saved": "Your preferences are saved.",
        "status_unsubscribed": "You are unsubscribed and receive no digests.",
        "leave_heading": "Leave",
        "unsubscribe_all_button": "Unsubscribe from all digests",
        "data_heading": "Your data",
        "data_intro": "Download everything we keep about you, or delete it.",
        "download_link": "Download my data (JSON)",
        "delete_link": "Delete my data",
        "delete_title": "Delete your data",
        "delete_body": (
            "This deletes your address, your choices and your delivery history. We keep only "
            "a one-way hash of the address so that we never email it again. This cannot be "
            "undone."
        ),
        "delete_confirm_label": "Yes, delete my data",
        "delete_button": "Delete my data",
        "delete_confirm_required": "Tick the box to confirm the deletion.",
        "deleted_title": "Your data is deleted",
        "deleted_body": (
            "We deleted your personal data. This address will get no more email from us."
        ),
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_body": "Stop all digests to {email}?",
        "unsubscribe_button": "Unsubscribe",
        "preferences_instead": "Or change topics, language or pause instead",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed_body": "We will send no more digests to {email}.",
        "gone_body": "This address receives no email from us.",
        "resubscribe_button": "Resubscribe",
        "resubscribed": "Welcome back: you will receive your digests again.",
        "archive_title": "{topic}: past digests",
        "archive_empty": "No digests in this language yet.",
        "archive_feed": "Atom feed",
        "archive_other_language": "Also in:",
        "error_title": "Something went wrong",
        "bad_request_body": "The request could not be understood. Please try again.",
        "server_error_body": "That did not work on our side. Please try again in a few minutes.",
        "not_found_title": "Page not found",
        "not_found_body": "There is nothing at this address.",
        "csrf_error": "This form has expired or was not sent from this site. Please try again.",
        "encoding_error": (
            "The form could not be read: what was typed was not sent as UTF-8 text. Please "
            "type it again in the form on this site."
        ),
        "rate_limited_title": "Too many attempts",
        "rate_limited_body": "Please try again in {wait}.",
        "wait_seconds": "{n} seconds",
        "wait_minutes": "{n} minutes",
        "wait_minute": "1 minute",
        "wait_hours": "{n} hours",
        "wait_hour": "1 hour",
        "too_large_title": "Too much input",
        "too_large_body": "The form was larger than any real signup. Please try again.",
        "email_invalid": "Enter a valid email address, like name@example.com.",
        "email_required": "Enter your email address.",
        "topics_required": "Choose at least one topic.",
        "topics_unknown": "Choose topics from the list.",
        "language_invalid": "Choose a language from the list.",
        "send_failed": "We could not send the email just now. Please try again in a few minutes.",
        "form_errors": "Please fix what is marked below.",
        "error_prefix": "Error:",
    },
    "zh-TW": {
        "skip_link": "跳至主要內容",
        "language_switch": "語言",
        "nav_home": "訂閱",
        "signup_title": "訂閱 AI 每日新聞摘要",
        "signup_intro": (
            "每個主題每天一封信：由 AI 彙整當日新聞，並附上所有來源連結。免費、無需"
            "帳號，一鍵即可取消訂閱。"
        ),
        "email_label": "電子郵件地址",
        "email_hint": "我們會先寄一封確認信到這個地址。",
        "topics_legend": "主題",
        "language_legend": "摘要語言",
        "honeypot_label": "請勿填寫此欄位",
        "subscribe_button": "訂閱",
        "no_topics": "目前還沒有可以訂閱的主題。",
        "archive_heading": "過往摘要",
        "check_title": "請查看您的信箱",
        "check_body": (
            "如果這個地址可以收到我們的摘要，確認信已在路上。請在 {days} 天內點選信"
            "中的連結以開始訂閱；確認之前我們不會寄出任何內容。"
        ),
        "check_resend": "幾分鐘後仍未收到？請查看垃圾郵件匣，或",
        "check_resend_link": "重新索取確認連結",
        "resend_title": "重新索取確認連結",
        "resend_intro": (
            "請輸入您訂閱時使用的地址。如果它正在等待確認，我們會寄出新的連結（每 {"
            "minutes} 分鐘最多一次）。"
        ),
        "resend_button": "寄送新連結",
        "confirm_title": "確認訂閱",
        "confirm_intro": "確認 {email} 要接收以下主題的每日摘要：{topics}。",
        "confirm_button": "確認訂閱",
        "confirmed_title": "訂閱成功",
        "confirmed_body": "歡迎！我們已寄出一封歡迎信；您明天就會收到第一份摘要。",
        "nothing_to_confirm_title": "沒有需要確認的訂閱",
        "nothing_to_confirm_body": "這個訂閱已不在等待確認的狀態。如要重新訂閱，請使用訂閱表單。",
        "link_expired_title": "此連結已過期",
        "link_expired_body": (
            "確認連結的有效期限為 {days} 天。請在下方輸入您的地址，我們會寄給您新的連結。"
        ),
        "link_invalid_title": "此連結無效",
        "link_invalid_body": "連結可能被截斷或修改。請從信中複製完整網址，或在下方重新索取連結。",
        "fresh_link_title": "這個連結已無法使用",
        "fresh_link_body": (
            "連結可能在複製時被截斷，或屬於已刪除的資料。請輸入您的地址；如果它在我們的名單上，"
            "我們會寄給您前往設定頁與取消訂閱的新連結。"
        ),
        "fresh_link_form_title": "索取新連結",
        "fresh_link_button": "寄給我新連結",
        "fresh_link_sent_title": "請查看您的信箱",
        "fresh_link_sent_body": (
            "如果這個地址在我們的名單上，一封附有新連結的信正在寄出（每 {minutes} 分鐘最多一封）。"
        ),
        "privacy_link": "隱私權",
        "privacy_title": "隱私權",
        "privacy_intro": "{site} 只保存寄送每日摘要所需的最少資料，不追蹤您閱讀了什麼。",
        "privacy_stored_heading": "我們保存的資料",
        "privacy_stored_address": "您的電子郵件地址。",
        "privacy_stored_choices": (
            "您選擇的主題、語言與暫停設定，以及您確認或取消訂閱的狀態與時間。"
        ),
        "privacy_stored_deliveries": "每一份摘要是否已寄給您、何時寄出（以免重複寄送）。",
        "privacy_kept_heading": "保存多久",
        "privacy_kept_body": (
            "在您訂閱期間保存。取消訂閱後我們仍會保留，方便您一鍵重新訂閱，直到您刪除資料為止。"
        ),
        "privacy_kept_after": (
            "刪除資料時，所有資料會一次刪除，我們寄給您的所有連結也隨之失效。我們只保留"
            "您地址的金鑰雜湊值（不是地址本身），用來得知這個地址曾要求被遺忘。若地址退信"
            "或信箱將我們的信回報為垃圾郵件，我們會把該地址列入永不再寄送的名單。"
        ),
        "privacy_tracking_heading": "不追蹤",
        "privacy_tracking_body": (
            "我們的信件沒有追蹤像素、不從我們的伺服器載入圖片，也沒有轉址連結：每個連結都"
            "直接前往新聞網站。本網站只設定一個 cookie，用來保護表單並記住您的語言，且不使用"
            "任何分析工具。"
        ),
        "privacy_rights_heading": "下載或刪除您的資料",
        "privacy_rights_body": (
            "我們寄出的每封信都有前往您設定頁的連結。您可以在那裡下載我們保存的所有資料，或將其刪除。"
        ),
        "privacy_rights_lost": "手邊沒有信件？",
        "privacy_contact_heading": "聯絡我們",
        "preferences_title": "您的訂閱",
        "preferences_intro": "{email} 的設定。",
        "paused_label": "暫停寄送所有摘要",
        "paused_hint": "您仍保持訂閱，但在取消勾選之前不會收到任何信件。",
        "save_button": "儲存設定",
        "saved": "已儲存您的設定。",
        "status_unsubscribed": "您已取消訂閱，不會收到任何摘要。",
        "leave_heading": "離開",
        "unsubscribe_all_button": "取消訂閱所有摘要",
        "data_heading": "您的資料",
        "data_intro": "下載我們保存的所有關於您的資料，或將其刪除。",
        "download_link": "下載我的資料（JSON）",
        "delete_link": "刪除我的資料",
        "delete_title": "刪除您的資料",
        "delete_body": (
            "這會刪除您的地址、您的選擇與寄送紀錄。我們只保留地址的單向雜湊值，以確"
            "保不再寄信給它。此動作無法復原。"
        ),
        "delete_confirm_label": "是的，刪除我的資料",
        "delete_button": "刪除我的資料",
        "delete_confirm_required": "請勾選方塊以確認刪除。",
        "deleted_title": "您的資料已刪除",
        "deleted_body": "我們已刪除您的個人資料。這個地址不會再收到我們的任何信件。",
        "unsubscribe_title": "取消訂閱",
        "unsubscribe_body": "停止寄送所有摘要到 {email}？",
        "unsubscribe_button": "取消訂閱",
        "preferences_instead": "或改為變更主題、語言或暫停寄送",
        "unsubscribed_title": "已取消訂閱",
        "unsubscribed_body": "我們不會再寄送任何摘要到 {email}。",
        "gone_body": "這個地址不會收到我們的任何信件。",
        "resubscribe_button": "重新訂閱",
        "resubscribed": "歡迎回來：您將再次收到摘要。",
        "archive_title": "{topic}：過往摘要",
        "archive_empty": "此語言尚無摘要。",
        "archive_feed": "Atom 訂閱源",
        "archive_other_language": "其他語言：",
        "error_title": "發生錯誤",
        "bad_request_body": "無法處理這個請求。請再試一次。",
        "server_error_body": "我們這邊出了問題。請幾分鐘後再試。",
        "not_found_title": "找不到頁面",
        "not_found_body": "這個網址沒有任何內容。",
        "csrf_error": "此表單已過期，或並非從本網站送出。請再試一次。",
        "encoding_error": (
            "無法讀取表單：輸入的內容並非以 UTF-8 文字送出。請在本網站的表單中重新輸入。"
        ),
        "rate_limited_title": "嘗試次數過多",
        "rate_limited_body": "請在{wait}後再試。",
        "wait_seconds": " {n} 秒",
        "wait_minutes": " {n} 分鐘",
        "wait_minute": " 1 分鐘",
        "wait_hours": " {n} 小時",
        "wait_hour": " 1 小時",
        "too_large_title": "輸入內容過多",
        "too_large_body": "表單內容超過正常訂閱所需的大小。請再試一次。",
        "email_invalid": "請輸入有效的電子郵件地址，例如 name@example.com。",
        "email_required": "請輸入您的電子郵件地址。",
        "topics_required": "請至少選擇一個主題。",
        "topics_unknown": "請從清單中選擇主題。",
        "language_invalid": "請從清單中選擇語言。",
        "send_failed": "目前無法寄出信件。請幾分鐘後再試。",
        "form_errors": "請修正下方標示的問題。",
        "error_prefix": "錯誤：",
    },
}


def wording(language: str) -> MappingProxyType[str, str]:
    return MappingProxyType(_WORDING.get(language, _WORDING[DEFAULT_LANGUAGE]))


def wait_wording(t: Mapping[str, str], seconds: int) -> str:
    """``seconds`` as a reader reads a wait: rounded up to whole seconds, minutes or hours."""
    if seconds < 60:
        return t["wait_seconds"].format(n=seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return t["wait_minute"] if minutes == 1 else t["wait_minutes"].format(n=minutes)
    hours = math.ceil(seconds / 3600)
    return t["wait_hour"] if hours == 1 else t["wait_hours"].format(n=hours)
