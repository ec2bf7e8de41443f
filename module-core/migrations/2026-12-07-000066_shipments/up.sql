-- Parcels tracked: the couriers an admin ships with (their tracking pages as URL templates),
-- the courier and invoice number of each shipped order, and how its delivery was confirmed.
CREATE TABLE couriers (
    code                  TEXT PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{1,19}$'),
    name                  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    -- `{tracking_number}` is replaced by the invoice number.
    tracking_url_template TEXT NOT NULL CHECK (tracking_url_template LIKE 'https://%{tracking_number}%')
);
INSERT INTO couriers (code, name, tracking_url_template) VALUES
    ('CJ', 'CJ대한통운', 'https://trace.cjlogistics.com/next/tracking.html?wblNo={tracking_number}'),
    ('HANJIN', '한진택배', 'https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2={tracking_number}'),
    ('LOTTE', '롯데택배', 'https://www.lotteglogis.com/home/reservation/tracking/linkView?InvNo={tracking_number}'),
    ('EPOST', '우체국택배', 'https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1={tracking_number}'),
    ('LOGEN', '로젠택배', 'https://www.ilogen.com/web/personal/trace/{tracking_number}'),
    ('KDEXP', '경동택배', 'https://kdexp.com/service/delivery/etc/delivery.do?barcode={tracking_number}'),
    ('CVSNET', 'GS Postbox 택배', 'https://www.cvsnet.co.kr/invoice/tracking.do?invoice_no={tracking_number}');

ALTER TABLE orders
    ADD COLUMN courier TEXT REFERENCES couriers (code) ON DELETE RESTRICT,
    ADD COLUMN tracking_number TEXT CHECK (tracking_number ~ '^[0-9A-Za-z-]{6,30}$'),
    ADD COLUMN shipped_at TIMESTAMPTZ,
    ADD COLUMN delivered_at TIMESTAMPTZ,
    -- `BUYER` (confirmed receipt), `ADMIN` or `AUTO` (the `confirm-deliveries` job, N days on).
    ADD COLUMN delivered_by TEXT CHECK (delivered_by IN ('BUYER', 'ADMIN', 'AUTO')),
    ADD CONSTRAINT orders_tracking_whole CHECK ((courier IS NULL) = (tracking_number IS NULL)),
    ADD CONSTRAINT orders_delivered_by CHECK ((delivered_at IS NULL) = (delivered_by IS NULL));
CREATE INDEX orders_courier ON orders (courier) WHERE courier IS NOT NULL;
-- The job's queue: shipped orders nobody confirmed, oldest first.
CREATE INDEX orders_awaiting_receipt ON orders (shipped_at, id) WHERE status = 'SHIPPING';

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('DAILY_QUESTION', 'ORDER_STATUS',
        'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED', 'LISTING_WISHED',
        'WISHED_PRICE_DROPPED', 'POST_LIKED', 'CONTENT_MODERATED', 'REPORT_RESOLVED',
        'ORDER_SHIPPED'));
ALTER TABLE notification_settings DROP CONSTRAINT notification_settings_kind_check,
    ADD CONSTRAINT notification_settings_kind_check CHECK (kind IN ('DAILY_QUESTION',
        'ORDER_STATUS', 'SUBSCRIPTION_PAYMENT_FAILED', 'SUBSCRIPTION_CANCELED', 'CHAT_MESSAGE',
        'EVENT_REMINDER', 'PET_DDAY', 'POST_COMMENTED', 'COMMENT_REPLIED', 'LISTING_WISHED',
        'WISHED_PRICE_DROPPED', 'POST_LIKED', 'CONTENT_MODERATED', 'REPORT_RESOLVED',
        'ORDER_SHIPPED'));

-- Orders moved along before: shipped and delivered when they last changed.
UPDATE orders SET shipped_at = updated_at WHERE status IN ('SHIPPING', 'DELIVERED');
UPDATE orders SET delivered_at = updated_at, delivered_by = 'ADMIN' WHERE status = 'DELIVERED';
ALTER TABLE orders ADD CONSTRAINT orders_shipped CHECK (status NOT IN ('SHIPPING', 'DELIVERED') OR shipped_at IS NOT NULL),
    ADD CONSTRAINT orders_delivered CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL));
