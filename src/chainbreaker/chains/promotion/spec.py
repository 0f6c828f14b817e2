"""What the tables of a seized platform database mean: canonical fields and their usual names.

Synonyms cover 网狐 (``UserID``/``SpreaderID``), generic web platforms (``id``/``parent_id``) and
Chinese exports (``会员ID``/``上级ID``/``推荐人ID``). A YAML profile overrides them per table.
"""

from __future__ import annotations

FIELDS: dict[str, dict[str, list[str]]] = {
    "members": {
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "memberid", "uid", "user_id", "id", "会员编号", "玩家ID",
                      "用户标识", "player_id", "会员编码"],
        "username": ["Accounts", "用户名", "会员账号", "账号", "登录账号", "username", "account", "user_name", "login_name",
                     "会员帐号", "帐号", "用户账号"],
        "upline_id": ["SpreaderID", "parent_id", "上级ID", "推荐人ID", "上级代理ID", "邀请人ID", "上级", "推荐人",
                      "pid", "parentid", "agent_id", "inviter_id", "referrer_id", "上级会员ID", "推广员标识", "推广员ID",
                      "上级编号", "上线", "上线ID", "上线会员编号", "邀请人", "推荐人编号", "parent_uid", "父级ID"],
        "level": ["AgentLevel", "代理级别", "代理等级", "层级", "级别", "level", "agent_level", "会员类型"],
        "real_name": ["Compellation", "RealName", "真实姓名", "姓名", "real_name", "truename"],
        "id_number": ["PassPortID", "IDCard", "身份证号", "身份证号码", "证件号码", "身份证", "id_card", "id_number", "idno",
                      "证件号", "身份证"],
        "phone": ["MobilePhone", "手机号", "手机号码", "手机", "电话", "联系电话", "phone", "mobile", "tel"],
        "bank_card": ["BankCard", "银行卡号", "银行卡", "绑定银行卡", "bank_card", "card_no", "bankcard", "银行账号",
                      "银行帐号"],
        "register_ip": ["RegisterIP", "注册IP", "reg_ip", "register_ip", "regip"],
        "register_time": ["RegisterDate", "注册时间", "注册日期", "reg_time", "register_time", "created_at", "create_time"],
        "last_login_ip": ["LastLogonIP", "最后登录IP", "登录IP", "last_ip", "last_login_ip"],
        "last_login_time": ["LastLogonDate", "最后登录时间", "last_login_time", "last_login", "login_time"],
        "device": ["RegisterMachine", "设备号", "设备ID", "机器码", "设备码", "device_id", "device", "imei", "设备标识"],
    },
    "bets": {
        "order_id": ["OrderID", "注单号", "注单编号", "投注单号", "bet_id", "order_no", "orderid", "RecordID", "order_sn",
                     "bet_no", "slip_no", "注单ID", "订单号"],
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "uid", "user_id", "会员编号", "用户标识", "玩家ID",
                      "player_id"],
        "game": ["GameName", "KindID", "游戏", "游戏名称", "彩种", "game", "game_name", "game_code"],
        "period": ["Period", "期号", "局号", "period", "issue", "round_id", "DrawID"],
        "stake": ["BetAmount", "BetScore", "投注金额", "下注金额", "投注额", "stake", "bet_amount", "bet_money",
                  "下注分数", "投注分数", "下注额"],
        "payout": ["WinAmount", "派彩", "派彩金额", "中奖金额", "payout", "win_amount", "prize", "WinScore", "派彩分数",
                   "中奖分数", "win_money", "赢取金额", "派奖金额"],
        "valid_bet": ["ValidBet", "有效投注", "有效投注额", "valid_bet", "valid_amount", "valid_money"],
        "rebate": ["Rebate", "返水", "返水金额", "rebate"],
        "ts": ["BetTime", "投注时间", "下注时间", "bet_time", "created_at", "create_time", "InsertTime", "placed_at",
               "bet_at"],
    },
    "deposits": {
        "order_id": ["OrderNo", "订单号", "充值单号", "order_no", "orderid", "订单编号", "order_sn"],
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "uid", "user_id", "会员编号", "用户标识", "玩家ID",
                      "player_id"],
        "amount": ["Amount", "充值金额", "存款金额", "入款金额", "amount", "pay_amount", "money", "实付金额", "支付金额",
                   "储值金额", "金额"],
        "channel": ["PayChannel", "充值渠道", "支付方式", "支付渠道", "channel", "pay_type"],
        "payee_account": ["PayeeAccount", "收款账号", "收款卡号", "收款账户", "码商账号", "payee_account", "receive_account"],
        "status": ["Status", "状态", "订单状态", "status", "state"],
        "ts": ["PayTime", "充值时间", "存款时间", "入款时间", "pay_time", "created_at", "create_time", "支付时间",
               "储值时间", "ApplyDate"],
    },
    "withdrawals": {
        "order_id": ["OrderNo", "订单号", "提现单号", "order_no", "orderid", "订单编号", "order_sn"],
        "member_id": ["UserID", "会员ID", "用户ID", "member_id", "uid", "user_id", "会员编号", "用户标识", "玩家ID",
                      "player_id"],
        "amount": ["Amount", "提现金额", "取款金额", "出款金额", "withdraw_amount", "amount", "money", "金额"],
        "bank_card": ["BankCard", "银行卡号", "提现卡号", "收款卡号", "bank_card", "card_no", "bank_card_no", "银行账号"],
        "status": ["Status", "状态", "订单状态", "status", "state", "审核状态"],
        "ts": ["ApplyTime", "申请时间", "提现时间", "出款时间", "withdraw_time", "created_at", "create_time"],
    },
    "rebates": {
        "member_id": ["UserID", "会员ID", "代理ID", "用户ID", "member_id", "uid", "user_id", "agent_id"],
        "amount": ["Amount", "佣金金额", "返佣金额", "返水金额", "分红金额", "金额", "commission", "amount"],
        "kind": ["Type", "类型", "佣金类型", "type", "kind"],
        "ts": ["SettleTime", "结算时间", "发放时间", "settle_time", "created_at", "create_time", "结算日期", "settle_date"],
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "members": ("member_id", "upline_id"),
    "bets": ("member_id", "stake"),
    "deposits": ("member_id", "amount"),
    "withdrawals": ("member_id", "amount"),
    "rebates": ("member_id", "amount"),
}

# Words in a table or file name that say which kind of table it is.
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "members": ("user", "member", "会员", "用户", "玩家", "account"),
    "bets": ("bet", "注单", "投注", "order_record", "game_record", "record", "下注"),
    "deposits": ("recharge", "deposit", "充值", "存款", "入款", "pay_order", "储值", "store_value"),
    "withdrawals": ("withdraw", "提现", "取款", "出款"),
    "rebates": ("commission", "rebate", "佣金", "返佣", "返水", "分红", "settle"),
}

MONEY_FIELDS = {"stake", "payout", "valid_bet", "rebate", "amount"}
TIME_FIELDS = {"ts", "register_time", "last_login_time"}

# Deposit/withdrawal statuses that mean the money did not move.
FAILED_STATUSES = ("失败", "取消", "已取消", "拒绝", "已拒绝", "驳回", "未支付", "待支付", "超时", "关闭", "已关闭",
                   "未付款", "待付款", "待审核", "审核中", "处理中", "已退回", "退回", "未到账", "冻结",
                   "failed", "fail", "cancel", "cancelled", "canceled", "rejected", "refused", "pending", "unpaid",
                   "timeout", "closed")
REBATE_KINDS = {"返水": "rebate", "洗码": "rebate", "rebate": "rebate", "分红": "dividend", "占成": "dividend",
                "dividend": "dividend", "profit_share": "dividend"}

# What each canonical field is called in the ingest summary.
FIELD_ZH = {
    "member_id": "会员ID", "username": "用户名", "upline_id": "上级ID", "level": "代理级别", "real_name": "真实姓名",
    "id_number": "身份证号", "phone": "手机号", "bank_card": "银行卡号", "register_ip": "注册IP",
    "register_time": "注册时间", "last_login_ip": "最后登录IP", "last_login_time": "最后登录时间", "device": "设备号",
    "order_id": "单号", "game": "游戏", "period": "期号", "stake": "投注金额", "payout": "派彩", "valid_bet": "有效投注",
    "rebate": "返水", "ts": "时间", "amount": "金额", "channel": "渠道", "payee_account": "收款账号", "status": "状态",
    "kind": "类型",
}
KIND_ZH = {"members": "会员", "bets": "注单", "deposits": "充值", "withdrawals": "提现", "rebates": "佣金/返水"}

# Traditional characters of platform exports from Taiwan, Hong Kong and Macau, mapped to the simplified
# forms the synonyms use (only for matching names and comments; the data are never converted).
TRAD_TO_SIMP = str.maketrans(
    "會員編號級帳戶註單額現儲時間機碼證實點數類傭紅結發贏輸遊戲錢銀狀態訂請薦設備錄總幣種獎線紀資給筆記標識絡權層詳細"
    "負勝獲補贈優廳轉帶歸屬護簽驗讀務開戶卡際計與從歷",
    "会员编号级账户注单额现储时间机码证实点数类佣红结发赢输游戏钱银状态订请荐设备录总币种奖线纪资给笔记标识络权层详细"
    "负胜获补赠优厅转带归属护签验读务开户卡际计与从历",
)
