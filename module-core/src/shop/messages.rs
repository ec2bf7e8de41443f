//! What the shop tells its buyers, in the product's words (the rest of the copy is in
//! `crate::platform::messages`; these name an order's states, so they live with orders).

use super::OrderId;
use super::order::OrderStatus;
use crate::platform::messages::Message;

/// An order reached `status`.
pub fn order_status(order_id: OrderId, status: OrderStatus) -> Message {
    let (title, body) = match status {
        OrderStatus::PendingPayment => ("주문이 접수되었어요", "결제를 마치면 주문이 확정됩니다."),
        OrderStatus::Paid => ("결제가 완료되었어요", "상품을 준비해서 곧 보내 드릴게요."),
        OrderStatus::Shipping => ("배송이 시작되었어요", "주문하신 상품이 출발했습니다."),
        OrderStatus::Delivered => (
            "배송이 완료되었어요",
            "상품은 잘 받으셨나요? 리뷰를 남겨 주세요.",
        ),
        OrderStatus::Canceled => (
            "주문이 취소되었어요",
            "결제되지 않은 주문이 취소되었습니다.",
        ),
        OrderStatus::Refunded => ("환불이 완료되었어요", "결제가 취소되어 환불되었습니다."),
    };
    Message::new(title, format!("주문 #{order_id}: {body}"))
}

/// An order left with a courier: where to follow it.
pub fn order_shipped(order_id: OrderId, courier_name: &str, tracking_number: &str) -> Message {
    Message::new(
        "상품이 출발했어요",
        format!("주문 #{order_id}: {courier_name} 송장번호 {tracking_number}로 배송 중입니다."),
    )
}

/// A buyer cancelled a paid order; the refund is on its way.
pub fn refund_requested(order_id: OrderId) -> Message {
    Message::new(
        "주문이 취소되었어요",
        format!("주문 #{order_id}: 결제 취소를 요청했어요. 환불이 끝나면 다시 알려 드릴게요."),
    )
}

/// The gateway would not refund; people take over.
pub fn refund_failed(order_id: OrderId) -> Message {
    Message::new(
        "환불이 지연되고 있어요",
        format!(
            "주문 #{order_id}: 결제 취소가 처리되지 않았습니다. 고객센터에서 확인 후 환불해 드릴게요."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_status_has_its_own_words() {
        let titles: std::collections::HashSet<String> = OrderStatus::ALL
            .iter()
            .map(|status| order_status(OrderId(1), *status).title)
            .collect();
        assert_eq!(titles.len(), OrderStatus::ALL.len());
    }
}
