-- MySQL dump 10.13  Distrib 5.7.36, for Linux (x86_64)
--
-- Host: 127.0.0.1    Database: fh_game
-- ------------------------------------------------------
-- Server version	5.7.36-log
-- Source note: layout of a PHP 彩票/棋牌 platform seized in a 2024 case write-up (English tables,
-- generic English columns, Chinese COMMENTs, status codes and money in 分 explained in comments).

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Table structure for table `t_user`
--

DROP TABLE IF EXISTS `t_user`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE `t_user` (
  `id` int(11) unsigned NOT NULL AUTO_INCREMENT COMMENT '用户ID',
  `username` varchar(32) NOT NULL DEFAULT '' COMMENT '登录账号',
  `pid` int(11) NOT NULL DEFAULT '0' COMMENT '推荐人ID（0=无）',
  `nickname` varchar(64) DEFAULT NULL COMMENT '昵称',
  `realname` varchar(32) DEFAULT NULL COMMENT '真实姓名',
  `idcard` varchar(32) DEFAULT NULL COMMENT '身份证号',
  `mobile` varchar(20) DEFAULT NULL COMMENT '手机号码',
  `reg_ip` varchar(45) DEFAULT NULL COMMENT '注册IP',
  `device_id` varbinary(16) DEFAULT NULL COMMENT '设备标识',
  `reg_time` int(10) unsigned NOT NULL DEFAULT '0' COMMENT '注册时间',
  `remark` text COMMENT '备注; 客服填写, 可含(括号)',
  PRIMARY KEY (`id`),
  KEY `idx_pid` (`pid`)
) ENGINE=InnoDB AUTO_INCREMENT=10008 DEFAULT CHARSET=utf8mb4 COMMENT='会员表';
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `t_user`
--

LOCK TABLES `t_user` WRITE;
/*!40000 ALTER TABLE `t_user` DISABLE KEYS */;
INSERT INTO `t_user` VALUES (10001,'boss01',0,'大哥','张伟','110101198001011234','13800000001','1.2.3.4',_binary 0x9F2A11,1577836800,'总代; 不要动'),(10002,'agent\'s',10001,'O\'Neil','李娜',NULL,'13800000002','1.2.3.5',X'0A0B',1577923200,'a\\b \"quoted\" (x),y;'),(10003,'m3',10002,'','\\N',\N,'13800000003',NULL,NULL,1578009600,'line1\nline2'),(10004,'m4',10002,'四','王芳','11010120100101002X','+86 138-0000-0004','1.2.3.7',_binary '',1578096000,''),(10005,'m5',10004,'五',NULL,NULL,NULL,NULL,NULL,1578182400,NULL);
/*!40000 ALTER TABLE `t_user` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `game_record`
--

DROP TABLE IF EXISTS `game_record`;
CREATE TABLE `game_record` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT COMMENT '主键',
  `order_sn` varchar(32) NOT NULL COMMENT '注单号',
  `uid` int(11) NOT NULL COMMENT '会员ID',
  `game_code` varchar(16) NOT NULL COMMENT '游戏',
  `issue` varchar(20) DEFAULT NULL COMMENT '期号',
  `money` decimal(12,2) NOT NULL DEFAULT '0.00' COMMENT '下注金额',
  `win_money` decimal(12,2) NOT NULL DEFAULT '0.00' COMMENT '中奖金额',
  `valid_money` decimal(12,2) DEFAULT NULL COMMENT '有效投注',
  `status` tinyint(1) NOT NULL DEFAULT '0' COMMENT '状态 0未结算 1已结算',
  `create_time` int(10) NOT NULL COMMENT '下注时间',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uk_sn` (`order_sn`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='游戏注单';

LOCK TABLES `game_record` WRITE;
INSERT INTO `game_record` VALUES (1,'G20200301001',10003,'cqssc','20200301-023',100.00,195.00,100.00,1,1583020800),(2,'G20200301002',10003,'cqssc','20200301-024',50.00,0.00,50.00,1,1583021400),(3,'G20200301003',10005,'bjpk10','733001',200.00,0.00,200.00,1,1583025000);
INSERT INTO `game_record` VALUES (4,'G20200302001',10004,'cqssc','20200302-001',300.00,585.00,300.00,0,1583107200);
UNLOCK TABLES;

--
-- Table structure for table `pay_order`
--

DROP TABLE IF EXISTS `pay_order`;
CREATE TABLE `pay_order` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `order_sn` varchar(32) NOT NULL COMMENT '订单号',
  `uid` int(11) NOT NULL COMMENT '会员ID',
  `money` int(11) NOT NULL COMMENT '充值金额（单位：分）',
  `pay_type` tinyint(4) NOT NULL COMMENT '支付方式 1支付宝 2微信 3银行卡',
  `receive_account` varchar(64) DEFAULT NULL COMMENT '收款账号',
  `status` tinyint(4) NOT NULL DEFAULT '0' COMMENT '状态 0待支付 1成功 2失败',
  `create_time` int(10) NOT NULL COMMENT '下单时间',
  `pay_time` int(10) DEFAULT NULL COMMENT '支付时间',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='充值订单';

LOCK TABLES `pay_order` WRITE;
INSERT INTO `pay_order` VALUES (1,'P001',10003,50000,3,'6222-0200-0000-1111',1,1583010000,1583010060),(2,'P002',10003,20000,1,'6222020000001111',2,1583011000,NULL),(3,'P003',10005,30000,2,'6222 0200 0000 1111',0,1583012000,NULL),(4,'P004',10004,100000,3,'6222020000001111_01',1,1583013000,1583013100);
UNLOCK TABLES;

--
-- Table structure for table `withdraw_apply`
--

DROP TABLE IF EXISTS `withdraw_apply`;
CREATE TABLE `withdraw_apply` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `order_sn` varchar(32) NOT NULL COMMENT '提现单号',
  `uid` int(11) NOT NULL COMMENT '会员ID',
  `money` decimal(12,2) NOT NULL COMMENT '提现金额',
  `bank_name` varchar(32) DEFAULT NULL COMMENT '开户行',
  `bank_card_no` varchar(32) DEFAULT NULL COMMENT '银行卡号',
  `status` tinyint(4) NOT NULL DEFAULT '0' COMMENT '审核状态：0待审核，1已打款，2已拒绝',
  `created_at` datetime DEFAULT NULL COMMENT '申请时间',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='提现申请';

LOCK TABLES `withdraw_apply` WRITE;
INSERT INTO `withdraw_apply` VALUES (1,'W001',10003,190.00,'工商银行','6212260000000001',1,'2020-03-01 18:00:00'),(2,'W002',10004,500.00,'建设银行','6217000000000002',2,'2020-03-02 18:00:00');
UNLOCK TABLES;

--
-- Table structure for table `agent_commission`
--

DROP TABLE IF EXISTS `agent_commission`;
CREATE TABLE `agent_commission` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `agent_id` int(11) NOT NULL COMMENT '代理ID',
  `money` decimal(12,2) NOT NULL COMMENT '金额',
  `type` tinyint(4) NOT NULL COMMENT '类型 1返水 2佣金 3分红',
  `settle_date` date NOT NULL COMMENT '结算日期',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='代理佣金';

LOCK TABLES `agent_commission` WRITE;
INSERT INTO `agent_commission` VALUES (1,10002,35.00,2,'2020-03-02'),(2,10001,120.00,3,'2020-03-02'),(3,10003,2.50,1,'2020-03-02');
UNLOCK TABLES;

--
-- Table structure for table `login_log`
--

DROP TABLE IF EXISTS `login_log`;
CREATE TABLE `login_log` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `uid` int(11) NOT NULL COMMENT '会员ID',
  `ip` varchar(45) NOT NULL COMMENT '登录IP',
  `login_time` int(10) NOT NULL COMMENT '登录时间',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='登录日志';

LOCK TABLES `login_log` WRITE;
INSERT INTO `login_log` VALUES (1,10003,'1.2.3.6',1583010000);
UNLOCK TABLES;

DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER `tr_user` AFTER INSERT ON `t_user` FOR EACH ROW BEGIN
  INSERT INTO `login_log` (`uid`,`ip`,`login_time`) VALUES (NEW.id, NEW.reg_ip, NEW.reg_time);
END */;;
DELIMITER ;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;

-- Dump completed on 2024-05-12 10:21:33
