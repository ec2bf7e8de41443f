// Diesel table definitions, kept in step with `migrations/` by hand: the test
// `schema_rs_matches_the_migrated_database` (tests/schema.rs) compares them column by column.

pub mod sql_types {
    /// PostgreSQL's `cube` (a point on the earth, from `earthdistance`'s `ll_to_earth`).
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "cube"))]
    pub struct Cube;
}

diesel::table! {
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        request_hash -> Bytea,
        state -> Text,
        response_status -> Nullable<Int2>,
        response_headers -> Nullable<Jsonb>,
        response_body -> Nullable<Bytea>,
        locked_until -> Timestamptz,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    batch_job_runs (id) {
        id -> Int8,
        job -> Text,
        business_date -> Date,
        trigger -> Text,
        status -> Text,
        counts -> Jsonb,
        error -> Nullable<Text>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    account_notices (id) {
        id -> Int8,
        user_id -> Int8,
        kind -> Text,
        about -> Timestamptz,
        sent_at -> Timestamptz,
    }
}

diesel::table! {
    batch_job_idle_runs (job, business_date) {
        job -> Text,
        business_date -> Date,
        runs -> Int4,
        last_finished_at -> Timestamptz,
    }
}

diesel::table! {
    email_verifications (token_digest) {
        token_digest -> Text,
        user_id -> Int8,
        email -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    batch_job_leases (job) {
        job -> Text,
        holder -> Text,
        started_at -> Timestamptz,
        until -> Timestamptz,
    }
}

diesel::table! {
    place_week_likes (place_id) {
        place_id -> Int8,
        likes -> Int4,
    }
}

diesel::table! {
    password_resets (token_digest) {
        token_digest -> Text,
        user_id -> Int8,
        email -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        password_hash -> Nullable<Text>,
        name -> Text,
        phone -> Nullable<Text>,
        role -> Text,
        status -> Text,
        google_sub -> Nullable<Text>,
        suspended_until -> Nullable<Timestamptz>,
        suspension_reason -> Nullable<Text>,
        last_login_at -> Nullable<Timestamptz>,
        status_changed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        email_verified_at -> Nullable<Timestamptz>,
        nickname -> Nullable<Text>,
        nickname_changed_at -> Nullable<Timestamptz>,
        bio -> Text,
        avatar_key -> Nullable<Text>,
    }
}

diesel::table! {
    dormant_accounts (user_id) {
        user_id -> Int8,
        email -> Text,
        name -> Text,
        phone -> Nullable<Text>,
        moved_at -> Timestamptz,
        addresses -> Jsonb,
    }
}

diesel::table! {
    user_addresses (id) {
        id -> Int8,
        user_id -> Int8,
        label -> Text,
        recipient -> Text,
        phone -> Text,
        zip_code -> Text,
        address1 -> Text,
        address2 -> Text,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(user_addresses -> users (user_id));

diesel::table! {
    categories (id) {
        id -> Int8,
        name -> Text,
        sort_order -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    items (id) {
        id -> Int8,
        category_id -> Int8,
        name -> Text,
        brand -> Text,
        description -> Text,
        price -> Int8,
        discount_rate -> Int2,
        sale_price -> Int8,
        stock -> Int4,
        image_keys -> Array<Text>,
        rating_sum -> Int8,
        review_count -> Int4,
        rating_centi -> Int4,
        sales_count -> Int8,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    cart_items (id) {
        id -> Int8,
        user_id -> Int8,
        item_id -> Int8,
        quantity -> Int4,
        subscription_period_days -> Nullable<Int2>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Int8,
        user_id -> Int8,
        status -> Text,
        total_price -> Int8,
        recipient -> Text,
        phone -> Text,
        zip_code -> Text,
        address1 -> Text,
        address2 -> Text,
        payment_expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        canceled_at -> Nullable<Timestamptz>,
        subscription_id -> Nullable<Int8>,
        billing_cycle -> Nullable<Date>,
        courier -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        shipped_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        delivered_by -> Nullable<Text>,
    }
}

diesel::table! {
    couriers (code) {
        code -> Text,
        name -> Text,
        tracking_url_template -> Text,
    }
}

diesel::joinable!(orders -> couriers (courier));

diesel::table! {
    order_lines (id) {
        id -> Int8,
        order_id -> Int8,
        item_id -> Int8,
        item_name -> Text,
        unit_price -> Int8,
        quantity -> Int4,
        subscription_period_days -> Nullable<Int2>,
        line_total -> Int8,
        stock_taken -> Nullable<Int4>,
    }
}

diesel::table! {
    outbox_events (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        trace_parent -> Nullable<Text>,
    }
}

diesel::table! {
    item_reviews (id) {
        id -> Int8,
        order_line_id -> Int8,
        item_id -> Int8,
        user_id -> Int8,
        stars -> Int2,
        content -> Text,
        image_keys -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(item_reviews -> users (user_id));
diesel::table! {
    payments (id) {
        id -> Int8,
        order_id -> Int8,
        provider -> Text,
        tid -> Text,
        status -> Text,
        amount -> Int8,
        is_subscription -> Bool,
        aid -> Nullable<Text>,
        sid -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        approved_at -> Nullable<Timestamptz>,
        pg_token_digest -> Nullable<Text>,
        refund_requested_at -> Nullable<Timestamptz>,
        refunded_at -> Nullable<Timestamptz>,
        refund_error -> Nullable<Text>,
        return_token_digest -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Int8,
        user_id -> Int8,
        item_id -> Int8,
        first_order_id -> Int8,
        quantity -> Int4,
        period_days -> Int2,
        status -> Text,
        sid -> Text,
        anchor_date -> Date,
        next_billing_date -> Date,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        canceled_at -> Nullable<Timestamptz>,
        last_cycle_date -> Date,
        failed_attempts -> Int2,
        retry_at -> Nullable<Timestamptz>,
        last_failure -> Nullable<Text>,
        last_charged_at -> Nullable<Timestamptz>,
        sid_approved_at -> Nullable<Timestamptz>,
        paused_at -> Nullable<Timestamptz>,
        cancel_reason -> Nullable<Text>,
        address_id -> Nullable<Int8>,
        recipient -> Nullable<Text>,
        phone -> Nullable<Text>,
        zip_code -> Nullable<Text>,
        address1 -> Nullable<Text>,
        address2 -> Nullable<Text>,
    }
}

diesel::table! {
    subscription_charges (id) {
        id -> Int8,
        subscription_id -> Int8,
        cycle_date -> Date,
        sid -> Text,
        amount -> Int8,
        status -> Text,
        attempts -> Int2,
        lease_until -> Nullable<Timestamptz>,
        tid -> Nullable<Text>,
        order_id -> Nullable<Int8>,
        last_error -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        approved_at -> Nullable<Timestamptz>,
        quantity -> Nullable<Int4>,
    }
}

diesel::joinable!(subscription_charges -> subscriptions (subscription_id));

diesel::table! {
    notifications (id) {
        id -> Int8,
        user_id -> Int8,
        kind -> Text,
        title -> Text,
        body -> Text,
        data -> Jsonb,
        dedupe_key -> Text,
        read_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(notifications -> users (user_id));

diesel::table! {
    notification_settings (user_id, kind) {
        user_id -> Int8,
        kind -> Text,
        in_app -> Bool,
        push -> Bool,
        mail -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(notification_settings -> users (user_id));

diesel::table! {
    push_subscriptions (id) {
        id -> Int8,
        user_id -> Int8,
        endpoint -> Text,
        p256dh -> Text,
        auth -> Text,
        user_agent -> Nullable<Text>,
        session_id -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(push_subscriptions -> users (user_id));

diesel::table! {
    push_deliveries (id) {
        id -> Int8,
        subscription_id -> Int8,
        dedupe_key -> Text,
        notification_id -> Nullable<Int8>,
        kind -> Text,
        title -> Text,
        body -> Text,
        data -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(push_deliveries -> push_subscriptions (subscription_id));

diesel::table! {
    daily_questions (id) {
        id -> Int8,
        month -> Int2,
        day -> Int2,
        content -> Text,
        content_en -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    daily_answers (id) {
        id -> Int8,
        question_id -> Int8,
        user_id -> Int8,
        answered_on -> Date,
        content -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(daily_answers -> daily_questions (question_id));
diesel::joinable!(subscriptions -> items (item_id));
diesel::joinable!(payments -> orders (order_id));
diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(order_lines -> items (item_id));
diesel::joinable!(orders -> users (user_id));
diesel::joinable!(items -> categories (category_id));
diesel::joinable!(cart_items -> items (item_id));
diesel::joinable!(cart_items -> users (user_id));
diesel::table! {
    uploads (key) {
        key -> Text,
        owner_id -> Nullable<Int8>,
        purpose -> Text,
        content_type -> Text,
        content_length -> Int8,
        created_at -> Timestamptz,
        attached_at -> Nullable<Timestamptz>,
        discarded_at -> Nullable<Timestamptz>,
        versions_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
        failure -> Nullable<Text>,
        withheld_at -> Nullable<Timestamptz>,
        versions_withheld -> Bool,
    }
}

diesel::joinable!(uploads -> users (owner_id));

diesel::table! {
    pets (id) {
        id -> Int8,
        owner_id -> Int8,
        name -> Text,
        species -> Text,
        breed -> Text,
        birthday -> Nullable<Date>,
        adopted_on -> Nullable<Date>,
        sex -> Text,
        neutered -> Bool,
        weight_grams -> Nullable<Int4>,
        photo_key -> Nullable<Text>,
        memo -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    pet_diary_entries (id) {
        id -> Int8,
        pet_id -> Int8,
        day -> Date,
        text -> Text,
        image_keys -> Array<Text>,
        public -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    pet_weights (pet_id, measured_on) {
        pet_id -> Int8,
        measured_on -> Date,
        grams -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    posts (id) {
        id -> Int8,
        author_id -> Int8,
        category -> Text,
        title -> Text,
        content -> Text,
        image_keys -> Array<Text>,
        like_count -> Int4,
        comment_count -> Int4,
        view_count -> Int8,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    post_comments (id) {
        id -> Int8,
        post_id -> Int8,
        author_id -> Int8,
        parent_id -> Nullable<Int8>,
        content -> Text,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    post_likes (post_id, user_id) {
        post_id -> Int8,
        user_id -> Int8,
        created_at -> Timestamptz,
        id -> Int8,
    }
}

diesel::table! {
    post_like_notices (post_id) {
        post_id -> Int8,
        last_like_id -> Int8,
        notified_at -> Timestamptz,
    }
}

diesel::table! {
    post_likes_untold (post_id) {
        post_id -> Int8,
        since -> Timestamptz,
    }
}

diesel::table! {
    post_bookmarks (id) {
        id -> Int8,
        user_id -> Int8,
        post_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    listing_wishes (id) {
        id -> Int8,
        user_id -> Int8,
        listing_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    view_flushes (batch) {
        batch -> Text,
        flushed_at -> Timestamptz,
    }
}

diesel::table! {
    listings (id) {
        id -> Int8,
        seller_id -> Int8,
        category -> Text,
        title -> Text,
        content -> Text,
        price -> Int8,
        region -> Text,
        image_keys -> Array<Text>,
        status -> Text,
        chat_count -> Int4,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        wish_count -> Int4,
    }
}

diesel::table! {
    reports (id) {
        id -> Int8,
        reporter_id -> Int8,
        target_type -> Text,
        target_id -> Int8,
        reason -> Text,
        detail -> Text,
        status -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Int8>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> Int8,
        admin_id -> Nullable<Int8>,
        action -> Text,
        target_type -> Text,
        target_id -> Int8,
        report_id -> Nullable<Int8>,
        note -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    chat_rooms (id) {
        id -> Int8,
        listing_id -> Int8,
        seller_id -> Int8,
        buyer_id -> Int8,
        last_seq -> Int4,
        active_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    chat_members (room_id, user_id) {
        room_id -> Int8,
        user_id -> Int8,
        last_read_seq -> Int4,
        notified -> Bool,
        left_at -> Nullable<Timestamptz>,
        muted -> Bool,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> Int8,
        room_id -> Int8,
        seq -> Int4,
        sender_id -> Int8,
        client_id -> Uuid,
        text -> Nullable<Text>,
        image_key -> Nullable<Text>,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_blocks (blocker_id, blocked_id) {
        blocker_id -> Int8,
        blocked_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Cube;

    places (id) {
        id -> Int8,
        kakao_id -> Nullable<Text>,
        name -> Text,
        category -> Text,
        address -> Text,
        road_address -> Text,
        lat -> Float8,
        lng -> Float8,
        phone -> Text,
        pet_sizes -> Array<Text>,
        indoor_allowed -> Bool,
        leash_required -> Bool,
        extra_fee -> Int4,
        homepage -> Text,
        image_keys -> Array<Text>,
        like_count -> Int4,
        review_count -> Int4,
        star_sum -> Int4,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        /// `ll_to_earth(lat, lng)`, generated: what the position index and searches use.
        position -> Cube,
        /// When the position, category, pet sizes or visibility last changed (a trigger's).
        nearby_changed_at -> Timestamptz,
    }
}

diesel::table! {
    place_hours (place_id, weekday, opens) {
        place_id -> Int8,
        weekday -> Int2,
        opens -> Time,
        closes -> Time,
    }
}

diesel::table! {
    place_reviews (id) {
        id -> Int8,
        place_id -> Int8,
        author_id -> Int8,
        stars -> Int2,
        content -> Text,
        image_keys -> Array<Text>,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    place_likes (place_id, user_id) {
        place_id -> Int8,
        user_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    album_photos (id) {
        id -> Int8,
        user_id -> Int8,
        day -> Date,
        image_key -> Text,
        caption -> Text,
        visibility -> Text,
        hidden_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    calendar_events (id) {
        id -> Int8,
        user_id -> Int8,
        pet_id -> Nullable<Int8>,
        title -> Text,
        memo -> Text,
        all_day -> Bool,
        starts_local -> Timestamp,
        ends_local -> Timestamp,
        time_zone -> Text,
        color -> Text,
        rrule -> Nullable<Text>,
        exdates -> Array<Timestamp>,
        reminders -> Array<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        ical_uid -> Nullable<Text>,
        count_last_start -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    calendar_reminder_queue (event_id) {
        event_id -> Int8,
        due_at -> Timestamptz,
        from_at -> Timestamptz,
    }
}

diesel::table! {
    pet_dday_runs (day) {
        day -> Date,
        sent -> Int4,
        ran_at -> Timestamptz,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> Int8,
        token_digest -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    calendar_event_overrides (event_id, occurrence_date) {
        event_id -> Int8,
        occurrence_date -> Date,
        title -> Text,
        memo -> Text,
        starts_local -> Timestamp,
        ends_local -> Timestamp,
        color -> Text,
    }
}

diesel::joinable!(calendar_events -> users (user_id));
diesel::joinable!(calendar_feeds -> users (user_id));
diesel::joinable!(calendar_reminder_queue -> calendar_events (event_id));
diesel::joinable!(calendar_event_overrides -> calendar_events (event_id));
diesel::joinable!(album_photos -> users (user_id));
diesel::joinable!(listings -> users (seller_id));
diesel::joinable!(moderation_log -> reports (report_id));
diesel::joinable!(moderation_log -> users (admin_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(post_comments -> posts (post_id));
diesel::joinable!(post_comments -> users (author_id));
diesel::joinable!(post_like_notices -> posts (post_id));
diesel::joinable!(post_likes_untold -> posts (post_id));
diesel::joinable!(post_bookmarks -> posts (post_id));
diesel::joinable!(post_bookmarks -> users (user_id));
diesel::joinable!(listing_wishes -> listings (listing_id));
diesel::joinable!(listing_wishes -> users (user_id));
diesel::joinable!(post_likes -> posts (post_id));
diesel::joinable!(post_likes -> users (user_id));
diesel::joinable!(pets -> users (owner_id));
diesel::joinable!(pet_diary_entries -> pets (pet_id));
diesel::joinable!(pet_weights -> pets (pet_id));
diesel::joinable!(chat_rooms -> listings (listing_id));
diesel::joinable!(place_hours -> places (place_id));
diesel::joinable!(place_likes -> places (place_id));
diesel::joinable!(place_week_likes -> places (place_id));
diesel::joinable!(place_reviews -> places (place_id));
diesel::joinable!(place_reviews -> users (author_id));
diesel::joinable!(place_likes -> users (user_id));
diesel::joinable!(chat_members -> chat_rooms (room_id));
diesel::joinable!(chat_members -> users (user_id));
diesel::joinable!(chat_messages -> chat_rooms (room_id));
diesel::joinable!(chat_messages -> users (sender_id));

diesel::allow_tables_to_appear_in_same_query!(
    notification_settings,
    push_subscriptions,
    push_deliveries,
    couriers,
    place_week_likes,
    calendar_events,
    calendar_event_overrides,
    calendar_feeds,
    calendar_reminder_queue,
    pet_dday_runs,
    album_photos,
    uploads,
    places,
    place_hours,
    place_reviews,
    place_likes,
    chat_rooms,
    chat_members,
    chat_messages,
    user_blocks,
    pets,
    pet_diary_entries,
    pet_weights,
    posts,
    post_comments,
    post_likes,
    post_like_notices,
    post_likes_untold,
    post_bookmarks,
    listing_wishes,
    view_flushes,
    listings,
    reports,
    moderation_log,
    categories,
    items,
    cart_items,
    orders,
    order_lines,
    item_reviews,
    payments,
    subscriptions,
    subscription_charges,
    notifications,
    daily_questions,
    daily_answers,
    users,
    user_addresses
);
